//! Indonesian personal names: normalisation, newborn placeholders, phonetic
//! keys and a spelling-tolerant similarity.
//!
//! Why: the same child is often registered twice by different kader, and the
//! name is typed afresh each time, from the KIA book or from what the carer
//! says. The two spellings then differ in ways that are very regular in
//! Indonesia (Rizky/Rizki/Risky/Rizqi, Aisyah/Aisah, Khoirunnisa/Khairunnisa,
//! old Dutch-era spelling like Toekiyem or Fadjar, Muhammad written as M. or
//! Moch.), a second name is dropped, given names are swapped, compounds are
//! joined or split (Az Zahra/Azzahra, Nur Aini/Nuraini), and a newborn is
//! entered as `By Ny <mother>` before it has a name. At the same time twins
//! and siblings have deliberately similar names (Hasan/Husain, Salma/Salwa,
//! Rizky/Rizka), so the similarity must stay strict on real differences.
//!
//! Three layers, each usable alone:
//! - [`normalize_name`]: a canonical text form for storage, display-free
//!   comparison and search (lowercase ASCII, canonical Muhammad, no
//!   honorifics, canonical newborn placeholder);
//! - [`phonetic_key`]: a coarser per-token key that makes spelling variants
//!   agree (for blocking and spelling-tolerant search);
//! - [`name_similarity`]: a 0..=1 score over tokens that combines exact,
//!   phonetic and typo-aware (weighted edit distance) agreement.
//!
//! All functions are total: any `&str` (empty, emoji, other scripts) gives a
//! result without panicking.

// ---------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------

/// Spellings (after lowercasing and collapsing doubled letters) that stand
/// for "Muhammad". `m` alone only counts as the first token ("M. Rizky").
const MUHAMMAD_FORMS: &[&str] = &[
    "muhamad", "mohamad", "muhamat", "mohamat", "mochamad", "muchamad", "mochamat", "muchamat",
    "mohamed", "muhamed", "mukhamad", "mokhamad", "muhd", "mohd", "moh", "moch", "much", "muh",
    "mhd", "md", "mch",
];

/// Spellings (after collapsing doubled letters) that stand for "Ahmad".
const AHMAD_FORMS: &[&str] = &["achmad", "akhmad", "ahmat", "achmat", "akhmat"];

/// Honorifics put before a (mother's) name; removed at the start of a name.
const HONORIFICS: &[&str] = &[
    "ny", "nyonya", "ibu", "bu", "bunda", "hj", "hajah", "hajjah",
];

/// Words that start a newborn placeholder ("By Ny Siti", "Bayi Tukiyem").
const BABY_WORDS: &[&str] = &["by", "bayi", "baby", "bby"];

/// Appends one character to `out` as ASCII lowercase letters or digits
/// (diacritics stripped; apostrophes dropped). Returns `false` for
/// characters that separate tokens (spaces, punctuation, emoji, other
/// scripts).
fn fold_char(c: char, out: &mut String) -> bool {
    match c {
        'a'..='z' | '0'..='9' => out.push(c),
        'A'..='Z' => out.push(c.to_ascii_lowercase()),
        // Apostrophes inside Arabic-derived names: Ma'ruf -> maruf.
        '\'' | '’' | '‘' | '`' | '´' | 'ʼ' => {}
        _ => {
            let folded = match c {
                'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'À' | 'Á' | 'Â' | 'Ã'
                | 'Ä' | 'Å' | 'Ā' | 'Ă' | 'Ą' => "a",
                'æ' | 'Æ' => "ae",
                'ç' | 'ć' | 'č' | 'Ç' | 'Ć' | 'Č' => "c",
                'ď' | 'đ' | 'Ď' | 'Đ' | 'ð' | 'Ð' => "d",
                'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' | 'È' | 'É' | 'Ê' | 'Ë' | 'Ē'
                | 'Ė' | 'Ę' | 'Ě' => "e",
                'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'Į'
                | 'İ' => "i",
                'ñ' | 'ń' | 'ň' | 'Ñ' | 'Ń' | 'Ň' => "n",
                'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö'
                | 'Ø' | 'Ō' | 'Ő' => "o",
                'œ' | 'Œ' => "oe",
                'ř' | 'Ř' => "r",
                'ś' | 'š' | 'ş' | 'Ś' | 'Š' | 'Ş' => "s",
                'ß' => "ss",
                'ť' | 'ţ' | 'Ť' | 'Ţ' => "t",
                'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' | 'Ů'
                | 'Ű' => "u",
                'ý' | 'ÿ' | 'Ý' | 'Ÿ' => "y",
                'ź' | 'ż' | 'ž' | 'Ź' | 'Ż' | 'Ž' => "z",
                _ => return false,
            };
            out.push_str(folded);
        }
    }
    true
}

/// Splits a raw name into lowercase ASCII tokens: letters and digits, with
/// diacritics folded; every other character (spaces, `.`, `-`, `,`, emoji,
/// other scripts) separates tokens, except apostrophes, which are dropped.
fn raw_tokens(raw: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    for c in raw.chars() {
        if !fold_char(c, &mut cur) && !cur.is_empty() {
            tokens.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

/// Collapses runs of the same byte ("mohh" -> "moh", "raffa" -> "rafa").
fn collapse_doubles(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = None;
    for c in s.chars() {
        if Some(c) != last {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

/// Canonicalises one token of a name at position `pos` (0-based).
fn canonical_token(tok: &str, pos: usize) -> String {
    let collapsed = collapse_doubles(tok);
    let c = collapsed.as_str();
    if c == "muhamad" || MUHAMMAD_FORMS.contains(&c) || (pos == 0 && c == "m") {
        return "muhammad".to_owned();
    }
    if AHMAD_FORMS.contains(&c) {
        return "ahmad".to_owned();
    }
    if pos == 0 && matches!(tok, "st" | "stt" | "sti") {
        return "siti".to_owned();
    }
    if tok == "abd" {
        return "abdul".to_owned();
    }
    tok.to_owned()
}

/// The parts of a normalised name.
enum Parsed {
    /// A newborn placeholder with the (normalised) mother's name tokens,
    /// possibly empty ("Bayi" alone).
    Placeholder(Vec<String>),
    /// An ordinary name.
    Name(Vec<String>),
}

fn strip_honorifics(tokens: &[String]) -> &[String] {
    let mut rest = tokens;
    while let Some((first, tail)) = rest.split_first() {
        if HONORIFICS.contains(&first.as_str()) {
            rest = tail;
        } else {
            break;
        }
    }
    rest
}

fn canonical_tokens(tokens: &[String]) -> Vec<String> {
    tokens
        .iter()
        .enumerate()
        .map(|(i, t)| canonical_token(t, i))
        .collect()
}

fn parse(raw: &str) -> Parsed {
    let tokens = raw_tokens(raw);
    let mut rest: &[String] = &tokens;
    // Leading words that are not the name: honorifics ("Ny. Bayi Siti"),
    // "Anak X", and "An." before a placeholder ("An. By Ny X": anak bayi
    // nyonya X). "An" alone stays: "An Nisa" is a name.
    while let Some((first, tail)) = rest.split_first() {
        let next_is_baby = tail
            .first()
            .is_some_and(|t| BABY_WORDS.contains(&t.as_str()));
        let skip = HONORIFICS.contains(&first.as_str())
            || (first == "an" && next_is_baby)
            || (first == "anak" && !tail.is_empty());
        if !skip {
            break;
        }
        rest = tail;
    }
    if let Some((first, tail)) = rest.split_first()
        && BABY_WORDS.contains(&first.as_str())
    {
        return Parsed::Placeholder(canonical_tokens(strip_honorifics(tail)));
    }
    Parsed::Name(canonical_tokens(rest))
}

/// Normalises a personal name for storage and comparison.
///
/// Choices (each deliberate):
/// - lowercase ASCII; diacritics folded (`é` -> `e`); apostrophes dropped
///   (`Ma'ruf` -> `maruf`); every other non-letter, non-digit character
///   (`.`, `-`, `,`, emoji, other scripts) separates tokens, and whitespace is
///   collapsed: `"Nur-Aini"` -> `"nur aini"`, `"M.Rizky"` -> `"muhammad rizky"`.
///   Digits are kept ("By Ny Siti 2" for a second twin).
/// - Muhammad: `M.` (first token only), `Moh.`, `Moch.`, `Much.`, `Muh.`,
///   `Mhd`, `Md`, `Mochammad`, `Muhamad`, `Mohamad`, `Mohammad`,
///   `Muhammat`, ... (also with doubled letters typed, `Mohh.`) ->
///   `muhammad`. Likewise `Achmad`/`Akhmad`/`Ahmat` -> `ahmad`, `Abd.` ->
///   `abdul`, and `St.`/`Stt.`/`Sti` as first token -> `siti`.
/// - `Nurul` is kept as written: it is a distinct official spelling (it is
///   "Nur" + article), so stored names keep it; [`phonetic_key`] and
///   [`name_similarity`] treat `nurul` and `nur` as the same.
/// - Honorifics at the start (`Ny.`, `Nyonya`, `Ibu`, `Bu`, `Bunda`, `Hj.`)
///   are removed, so a mother's name compares on the name itself.
/// - Newborn placeholders (`By Ny X`, `By. Ny. X`, `Bayi Ny X`, `Bayi X`,
///   `By. X`, `An. By Ny X`, `Baby X`) become the canonical `bayi ny x`
///   (or `bayi` when no mother is named), so they stay recognisable:
///   `is_newborn_placeholder(&normalize_name(s))` equals
///   `is_newborn_placeholder(s)`, and normalising is idempotent.
/// - A leading `Anak` ("child of") before a name is dropped.
pub fn normalize_name(raw: &str) -> String {
    match parse(raw) {
        Parsed::Placeholder(mother) if mother.is_empty() => "bayi".to_owned(),
        Parsed::Placeholder(mother) => format!("bayi ny {}", mother.join(" ")),
        Parsed::Name(tokens) => tokens.join(" "),
    }
}

/// Recognises a newborn placeholder name and returns the mother's part,
/// normalised (see [`normalize_name`]).
///
/// `"By Ny Siti"` -> `Some("siti")`, `"Bayi Tukiyem"` -> `Some("tukiyem")`,
/// `"AN. BY NY SANTI"` -> `Some("santi")`, `"By. Ny. Ani Handayani"` ->
/// `Some("ani handayani")`. A bare `"Bayi"` gives `Some("")`: it is a
/// placeholder even though no mother is named. Ordinary names give `None`
/// (`"Bayu"` is a name, not a placeholder).
pub fn is_newborn_placeholder(raw: &str) -> Option<String> {
    match parse(raw) {
        Parsed::Placeholder(mother) => Some(mother.join(" ")),
        Parsed::Name(_) => None,
    }
}

// ---------------------------------------------------------------------------
// Phonetic keys
// ---------------------------------------------------------------------------

/// Arabic articles written as a separate token ("Az Zahra", "Al Fatih",
/// "Ar Rasyid"); joined with the next token for keys and similarity.
const ARTICLES: &[&str] = &[
    "al", "el", "ar", "as", "az", "an", "ad", "at", "ash", "asy", "adz", "ats", "ath",
];

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// The phonetic key of one normalised token (lowercase ASCII).
///
/// Rules, in order (examples in the doc of [`phonetic_key`]):
/// 1. old (pre-1972) spelling: `oe`->`u` (also `oo`, as in Noor), `dj`->`j`, `tj`->`c`, `sj`->`s`;
/// 2. digraphs: `ch`,`kh`->`h` (but `kh` after a consonant -> `k`); `sy`,`sh`,`ts`->`s`; `dz`,`zh`->`z`;
///    `dh`->`d`; `th`->`t`; `gh`->`g`; `bh`->`b`; `ph`->`f`;
/// 3. letters: `q`->`k`, `x`->`ks`, `v`,`f`->`p`, `z`->`s`, `y`->`i`;
/// 4. vowel pairs: `oi`,`ae`,`ei`->`ai`; `ou`->`u`; `uw`+vowel -> `u`+vowel;
///    final `ie`->`i`;
/// 5. doubled letters collapsed;
/// 6. a final `h` after a vowel is dropped, a final `d` becomes `t`;
/// 7. `nurul` -> `nur`.
fn token_key(tok: &str) -> String {
    let b = tok.as_bytes();
    if b.is_empty() || b.iter().all(u8::is_ascii_digit) {
        return tok.to_owned();
    }
    // Rules 1-3 in one left-to-right pass.
    let mut mapped: Vec<u8> = Vec::with_capacity(b.len() + 2);
    let mut i = 0;
    while i < b.len() {
        let next = b.get(i + 1).copied().unwrap_or(0);
        let (c, width) = match (b[i], next) {
            (b'o', b'e') | (b'o', b'o') => (b'u', 2),
            (b'd', b'j') => (b'j', 2),
            (b't', b'j') => (b'c', 2),
            (b's', b'j') | (b's', b'y') | (b's', b'h') | (b't', b's') => (b's', 2),
            // "kh" after a consonant is a k (Arkhan/Arkan), otherwise an h
            // (Khoirul/Hoirul, Akhmad/Ahmad).
            (b'k', b'h') if i > 0 && !is_vowel(b[i - 1]) => (b'k', 2),
            (b'c', b'h') | (b'k', b'h') => (b'h', 2),
            (b'd', b'z') | (b'z', b'h') => (b'z', 2),
            (b'd', b'h') => (b'd', 2),
            (b't', b'h') => (b't', 2),
            (b'g', b'h') => (b'g', 2),
            (b'b', b'h') => (b'b', 2),
            (b'p', b'h') => (b'f', 2),
            (c, _) => (c, 1),
        };
        match c {
            b'q' => mapped.push(b'k'),
            b'x' => mapped.extend_from_slice(b"ks"),
            b'v' | b'f' => mapped.push(b'p'),
            b'z' => mapped.push(b's'),
            b'y' => mapped.push(b'i'),
            _ => mapped.push(c),
        }
        i += width;
    }
    // Rule 4: vowel pairs and the u-w glide.
    let mut out: Vec<u8> = Vec::with_capacity(mapped.len());
    let mut i = 0;
    while i < mapped.len() {
        let next = mapped.get(i + 1).copied().unwrap_or(0);
        let after = mapped.get(i + 2).copied().unwrap_or(0);
        match (mapped[i], next) {
            (b'o', b'i') | (b'a', b'e') | (b'e', b'i') => {
                out.extend_from_slice(b"ai");
                i += 2;
            }
            (b'o', b'u') => {
                out.push(b'u');
                i += 2;
            }
            (b'u', b'w') if is_vowel(after) => {
                out.push(b'u');
                i += 2;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    if out.len() > 2 && out.ends_with(b"ie") {
        out.pop();
    }
    // Rule 5: doubled letters.
    out.dedup();
    // Rule 6: the end of the word.
    let n = out.len();
    if n > 2 && out[n - 1] == b'h' && is_vowel(out[n - 2]) {
        out.pop();
    }
    if out.len() > 2 && out.last() == Some(&b'd') {
        out.pop();
        out.push(b't');
    }
    // Rule 7.
    if out == b"nurul" {
        out.truncate(3);
    }
    out.into_iter().map(char::from).collect()
}

/// Joins standalone Arabic articles to the following token
/// (`az zahra` -> `azzahra`).
fn join_articles(tokens: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut pending: Option<String> = None;
    for t in tokens {
        if let Some(a) = pending.take() {
            out.push(a + &t);
            continue;
        }
        if ARTICLES.contains(&t.as_str()) {
            pending = Some(t);
        } else {
            out.push(t);
        }
    }
    if let Some(a) = pending {
        out.push(a);
    }
    out
}

/// The tokens compared by [`name_similarity`] and
/// [`mother_name_similarity`]: the normalised name (a placeholder's mother
/// part for placeholders) with articles joined, at most [`MAX_TOKENS`].
fn comparable_tokens(raw: &str) -> (bool, Vec<String>) {
    let (placeholder, mut tokens) = match parse(raw) {
        Parsed::Placeholder(m) => (true, join_articles(m)),
        Parsed::Name(t) => (false, join_articles(t)),
    };
    tokens.truncate(MAX_TOKENS);
    (placeholder, tokens)
}

/// An Indonesian-aware phonetic key: the name is normalised
/// ([`normalize_name`]), standalone articles are joined to the next token,
/// and every token is reduced so that common spelling variants agree.
/// Tokens are separated by one space, in the original order.
///
/// Agree: `Rizky`/`Rizki`/`Risky`/`Rizqi`/`Rizqy` -> `riski`;
/// `Aisyah`/`Aisah`/`Aysyah`/`Aisya` -> `aisa`;
/// `Khoirunnisa`/`Khairunnisa`/`Khairunisa` -> `hairunisa`;
/// `Azzahra`/`Az Zahra`/`Az-Zahra` -> `asahra`; `Fadhilah`/`Fadila` ->
/// `padila`; `Raffa`/`Rava`/`Rafa` -> `rapa`; `Yusuf`/`Yusup` -> `iusup`;
/// `Toekiyem`/`Tukiyem` -> `tukiem` (old spelling); `Fadjar`/`Fajar`;
/// `Keisha`/`Kaisha`; `Junaedi`/`Junaidi`/`Junaedie`; `Rachmawati`/
/// `Rahmawati`; `Zhafran`/`Zafran`; `Tsabita`/`Sabita`; `Ahmad`/`Ahmat`;
/// `Nurul`/`Nur`/`Noer`.
///
/// Stay apart: `Hasan` (`hasan`) / `Husain` (`husain`); `Salma`/`Salwa`;
/// `Rizki`/`Rizka` (`riski`/`riska`); `Putra`/`Putri`.
///
/// Known costs of these rules: `Chandra`/`Candra` do not agree (`ch` is
/// taken as the East-Javanese `kh` of Choirul, Cholifah, Chusnul, which is
/// far more common in posyandu registers); `z`->`s` merges Zahra with Sahra
/// (the same name in practice).
///
/// A newborn placeholder gives the key of its normalised form
/// (`bai ni <mother>`), so keys of placeholders never equal keys of names.
pub fn phonetic_key(name: &str) -> String {
    let normalized = normalize_name(name);
    let tokens = join_articles(normalized.split(' ').map(str::to_owned).collect());
    tokens
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| token_key(t))
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------
// Similarity
// ---------------------------------------------------------------------------

/// Tokens that carry little information about which child this is, because
/// many children (or many mothers) have them: their weight in the score is
/// [`COMMON_WEIGHT`].
const COMMON_TOKENS: &[&str] = &[
    "muhammad", "ahmad", "siti", "nur", "nurul", "putri", "putra", "abdul", "dwi", "tri", "eka",
    "sri",
];
const COMMON_WEIGHT: f64 = 0.35;

/// One comparable token with its phonetic key and weight.
#[derive(Debug, Clone)]
struct Tok {
    text: String,
    /// The text without a final silent `h` (Arkah -> arka), for the edit
    /// similarity of written forms.
    plain: String,
    key: String,
    weight: f64,
    digits: bool,
    mistyped: bool,
}

impl Tok {
    fn new(text: String) -> Tok {
        let key = token_key(&text);
        let weight = if text.len() == 1 || COMMON_TOKENS.contains(&text.as_str()) {
            COMMON_WEIGHT
        } else {
            1.0
        };
        let digits = text.bytes().all(|c| c.is_ascii_digit());
        let mistyped = looks_mistyped(&text);
        let b = text.as_bytes();
        let silent_h = b.len() > 2 && b[b.len() - 1] == b'h' && is_vowel(b[b.len() - 2]);
        let plain = if silent_h {
            text[..text.len() - 1].to_owned()
        } else {
            text.clone()
        };
        Tok {
            text,
            plain,
            key,
            weight,
            digits,
            mistyped,
        }
    }
}

/// Which letters are neighbours on a QWERTY keyboard (phone keyboards in
/// Indonesia are QWERTY); the row below is shifted right by about half a
/// key, so `s` touches `w`, `e`, `a`, `d`, `z`, `x`.
const KEYBOARD_ADJACENT: [[bool; 26]; 26] = {
    let rows: [&[u8]; 3] = [b"qwertyuiop", b"asdfghjkl", b"zxcvbnm"];
    let mut adj = [[false; 26]; 26];
    let mut r = 0;
    while r < rows.len() {
        let row = rows[r];
        let mut c = 0;
        while c < row.len() {
            let x = (row[c] - b'a') as usize;
            if c + 1 < row.len() {
                let y = (row[c + 1] - b'a') as usize;
                adj[x][y] = true;
                adj[y][x] = true;
            }
            if r + 1 < rows.len() {
                let below = rows[r + 1];
                // Below-left (same index) and below-right... the lower row
                // key at index k sits between upper keys k and k + 1.
                if c < below.len() {
                    let y = (below[c] - b'a') as usize;
                    adj[x][y] = true;
                    adj[y][x] = true;
                }
                if c >= 1 && c - 1 < below.len() {
                    let y = (below[c - 1] - b'a') as usize;
                    adj[x][y] = true;
                    adj[y][x] = true;
                }
            }
            c += 1;
        }
        r += 1;
    }
    adj
};

fn keyboard_adjacent(a: u8, b: u8) -> bool {
    a.is_ascii_lowercase()
        && b.is_ascii_lowercase()
        && KEYBOARD_ADJACENT[usize::from(a - b'a')][usize::from(b - b'a')]
}

/// Longest token compared letter by letter; longer ones are cut (no
/// personal name token comes close).
const MAX_TOKEN: usize = 31;

/// A typo-aware edit cost between two short ASCII strings (optimal string
/// alignment): insert/delete 1; substitution 1, or 0.5 between keyboard
/// neighbours in words of five letters or more and for the Javanese and
/// old-spelling vowel variations a/o and o/u (Ibrahim/Ibrohim,
/// Saputra/Saputro, Mukarromah/Mukarrumah); swapping two adjacent letters
/// 0.5. Changing the final vowel (or final y) into another one costs 1.5,
/// because in Indonesian names it usually marks another name (Rizki/Rizka,
/// Putra/Putri).
fn edit_cost(a: &[u8], b: &[u8]) -> f64 {
    // Costs in half units, to stay in integers.
    let a = &a[..a.len().min(MAX_TOKEN)];
    let b = &b[..b.len().min(MAX_TOKEN)];
    let (n, m) = (a.len(), b.len());
    let long = n.max(m) >= 5;
    // Three rolling rows of the DP table (OSA needs i-2).
    let mut rows = [[0u16; MAX_TOKEN + 1]; 3];
    for (j, cell) in rows[0].iter_mut().enumerate().take(m + 1) {
        *cell = 2 * j as u16;
    }
    for i in 1..=n {
        let (cur, prev, prev2) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[cur][0] = 2 * i as u16;
        let x = a[i - 1];
        for j in 1..=m {
            let y = b[j - 1];
            let sub = if x == y {
                0
            } else if matches!(
                (x, y),
                (b'a', b'o') | (b'o', b'a') | (b'o', b'u') | (b'u', b'o')
            ) {
                1
            } else if i == n && j == m && (is_vowel(x) || x == b'y') && (is_vowel(y) || y == b'y') {
                3
            } else if long && keyboard_adjacent(x, y) {
                1
            } else {
                2
            };
            let mut best = rows[prev][j] + 2;
            let ins = rows[cur][j - 1] + 2;
            if ins < best {
                best = ins;
            }
            let diag = rows[prev][j - 1] + sub;
            if diag < best {
                best = diag;
            }
            if i > 1 && j > 1 && x == b[j - 2] && a[i - 2] == y && x != y {
                let swap = rows[prev2][j - 2] + 1;
                if swap < best {
                    best = swap;
                }
            }
            rows[cur][j] = best;
        }
    }
    f64::from(rows[n % 3][m]) / 2.0
}

fn edit_similarity(a: &str, b: &str) -> f64 {
    let len = a.len().max(b.len());
    if len == 0 {
        return 0.0;
    }
    (1.0 - edit_cost(a.as_bytes(), b.as_bytes()) / len as f64).max(0.0)
}

/// Upper bound of [`edit_similarity`] from the lengths alone (every
/// inserted or deleted letter costs 1).
fn length_bound(a: &str, b: &str) -> f64 {
    let len = a.len().max(b.len());
    if len == 0 {
        return 0.0;
    }
    1.0 - a.len().abs_diff(b.len()) as f64 / len as f64
}

/// Similarity of two tokens in 0..=1.
fn token_similarity(a: &Tok, b: &Tok) -> f64 {
    if a.text == b.text {
        return 1.0;
    }
    if a.digits || b.digits {
        return 0.0;
    }
    if a.key == b.key {
        return 0.96;
    }
    // An initial ("A. Dimas") agrees with any token with that first letter.
    if a.text.len() == 1 || b.text.len() == 1 {
        return if a.text.as_bytes().first() == b.text.as_bytes().first() {
            0.85
        } else {
            0.0
        };
    }
    let key_bound = length_bound(&a.key, &b.key);
    let raw_bound = length_bound(&a.plain, &b.plain);
    let typo = a.mistyped || b.mistyped;
    if steepen(key_bound.max(raw_bound), typo) <= 0.0 {
        return 0.0;
    }
    let mut s = edit_similarity(&a.key, &b.key);
    if raw_bound > s {
        s = s.max(edit_similarity(&a.plain, &b.plain));
    }
    steepen(s, typo)
}

/// Below 0.9 the similarity of two well-formed tokens falls three times as
/// fast: one edit in a short real name (Salma/Salwa, Nida/Nisa,
/// Nadira/Nadia) is a different name (twins!) far more often than a typo.
/// When one of the tokens is not a plausible name ([`looks_mistyped`]:
/// Dnu, Wuln, Hafz, Hxfizah) the edit is taken as a typo and not steepened.
fn steepen(s: f64, typo: bool) -> f64 {
    if typo || s >= 0.9 {
        s
    } else {
        (0.9 - 3.0 * (0.9 - s)).max(0.0)
    }
}

/// Consonant units used by [`looks_mistyped`]: digraphs count as one.
const DIGRAPHS: &[&[u8; 2]] = &[
    b"kh", b"sy", b"sh", b"ng", b"ny", b"dz", b"ts", b"th", b"dh", b"gh", b"ch", b"zh", b"bh",
    b"ph", b"dj", b"tj",
];

/// Whether a normalised token cannot be an Indonesian name as written, so
/// that a small difference to another token is a typo rather than another
/// name. Flags: a letter typed three times (Keeenan); a doubled final
/// vowel (Humairaa); three vowels in a row (Auia); a word starting with two
/// consonants whose second is not r/l/w/y (Dnu, Rsya, Mhamad); ending with
/// two consonants other than nt/nd/rt/rd/st/ld (Wuln, Hafz); three
/// consonants in a row not ending in r/l/w/y (Hxfizah; Andrian and
/// Anggraini are fine). Digraphs (kh, sy, ng, ny, ...) count as one
/// consonant, `y` as a vowel, doubled letters as one.
fn looks_mistyped(tok: &str) -> bool {
    let b = tok.as_bytes();
    if b.len() < 2 || !b.iter().all(u8::is_ascii_lowercase) {
        return false;
    }
    if b.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
        return true;
    }
    let n = b.len();
    if is_vowel(b[n - 1]) && b[n - 1] == b[n - 2] {
        return true;
    }
    let mut collapsed = b.to_vec();
    collapsed.dedup();
    // Units: (is_vowel, letter); digraphs and "oe" merged.
    let mut units: Vec<(bool, u8)> = Vec::with_capacity(collapsed.len());
    let mut i = 0;
    while i < collapsed.len() {
        let pair = collapsed.get(i..i + 2);
        if pair.is_some_and(|p| DIGRAPHS.iter().any(|d| d[..] == *p)) {
            units.push((false, b'#'));
            i += 2;
        } else if pair == Some(b"oe") {
            units.push((true, b'u'));
            i += 2;
        } else {
            let c = collapsed[i];
            units.push((is_vowel(c) || c == b'y', c));
            i += 1;
        }
    }
    let glide = |c: u8| matches!(c, b'r' | b'l' | b'w' | b'y');
    let k = units.len();
    if k >= 2 && !units[0].0 && !units[1].0 && !glide(units[1].1) {
        return true;
    }
    if k >= 2 && !units[k - 1].0 && !units[k - 2].0 {
        let coda = [units[k - 2].1, units[k - 1].1];
        if !matches!(&coda, b"nt" | b"nd" | b"rt" | b"rd" | b"st" | b"ld") {
            return true;
        }
    }
    let mut run_v = 0;
    let mut run_c = 0;
    for &(v, c) in &units {
        if v {
            run_v += 1;
            run_c = 0;
            if run_v >= 3 && c != b'y' {
                return true;
            }
        } else {
            run_c += 1;
            run_v = 0;
            if run_c >= 4 || (run_c == 3 && !glide(c)) {
                return true;
            }
        }
    }
    false
}

/// Weight of tokens present in only one of the names (a dropped second
/// name) relative to a conflicting token; the left-over weight counted is
/// at most 1, so dropping two names costs no more than dropping one.
const DROP_COST: f64 = 0.1;

/// Most tokens of a name that are compared; the rest is ignored (real
/// names have at most five or six; this bounds the work on odd input).
const MAX_TOKENS: usize = 12;

/// Most entries of a token similarity matrix.
const MAX_CELLS: usize = MAX_TOKENS * MAX_TOKENS;

/// Score of one token alignment, given the token similarity matrix
/// (row-major, `wa.len()` × `wb.len()`) and the token weights. Tokens are
/// paired greedily by similarity, which for names of a handful of tokens is
/// the optimal pairing in practice.
fn aligned_score(sim: &[f64], wa: &[f64], wb: &[f64]) -> f64 {
    let m = wb.len();
    let mut buf = [(0.0f64, 0usize, 0usize); MAX_CELLS];
    let pairs = &mut buf[..sim.len()];
    for (k, (&s, p)) in sim.iter().zip(pairs.iter_mut()).enumerate() {
        *p = (s, k / m.max(1), k % m.max(1));
    }
    // (i, j) are unique, so the order is total and an unstable sort gives
    // the same order as a stable one.
    pairs.sort_unstable_by(|p, q| q.0.total_cmp(&p.0).then(p.1.cmp(&q.1)).then(p.2.cmp(&q.2)));
    let mut used_a = [false; MAX_TOKENS];
    let mut used_b = [false; MAX_TOKENS];
    let (mut num, mut den) = (0.0, 0.0);
    for &(s, i, j) in pairs.iter() {
        if used_a[i] || used_b[j] {
            continue;
        }
        used_a[i] = true;
        used_b[j] = true;
        let w = wa[i].max(wb[j]);
        num += w * s;
        den += w;
    }
    let left_a: f64 = wa
        .iter()
        .zip(used_a)
        .filter(|(_, u)| !u)
        .map(|(w, _)| w)
        .sum();
    let left_b: f64 = wb
        .iter()
        .zip(used_b)
        .filter(|(_, u)| !u)
        .map(|(w, _)| w)
        .sum();
    den += DROP_COST * (left_a + left_b).min(1.0);
    if den > 0.0 { num / den } else { 0.0 }
}

/// A name prepared for [`name_similarity`] and [`mother_name_similarity`]:
/// its comparable tokens with their keys and weights, and every pair of
/// adjacent tokens joined into one (for compounds). Building it once per
/// name and comparing prepared names gives exactly the similarities of the
/// string functions without re-parsing the names for every pair.
#[derive(Debug, Clone, Default)]
pub struct PreparedName {
    /// Whether the name is a newborn placeholder (the tokens are then the
    /// mother's part).
    placeholder: bool,
    toks: Vec<Tok>,
    /// `joined[i]`: tokens `i` and `i + 1` written as one.
    joined: Vec<Tok>,
    weights: Vec<f64>,
}

impl PreparedName {
    /// Prepares a raw (or normalised) name.
    pub fn new(raw: &str) -> PreparedName {
        let (placeholder, tokens) = comparable_tokens(raw);
        PreparedName::from_tokens(placeholder, tokens)
    }

    fn from_tokens(placeholder: bool, tokens: Vec<String>) -> PreparedName {
        let joined = tokens
            .windows(2)
            .map(|w| Tok::new(format!("{}{}", w[0], w[1])))
            .collect();
        let toks: Vec<Tok> = tokens.into_iter().map(Tok::new).collect();
        let weights = toks.iter().map(|t| t.weight).collect();
        PreparedName {
            placeholder,
            toks,
            joined,
            weights,
        }
    }

    /// Whether the name has no comparable token.
    pub fn is_empty(&self) -> bool {
        self.toks.is_empty()
    }
}

/// The similarity matrix of `a` × `b` (row-major) in `out`.
fn similarity_matrix<'o>(a: &[Tok], b: &[Tok], out: &'o mut [f64; MAX_CELLS]) -> &'o [f64] {
    let m = b.len();
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            out[i * m + j] = token_similarity(x, y);
        }
    }
    &out[..a.len() * m]
}

/// Best score when two adjacent tokens of `a` are written as one
/// (Nur Aini / Nuraini, Putri Nabila / Putrinabila, Khoirun Nisa /
/// Khairunnisa). `base` is the similarity matrix of `a` × `b`.
fn best_joined(a: &PreparedName, b: &PreparedName, base: &[f64]) -> f64 {
    let (at, bt) = (&a.toks, &b.toks);
    let m = bt.len();
    let wb = &b.weights;
    let mut best = 0.0f64;
    let mut sim = [0.0f64; MAX_CELLS];
    let mut wa = [0.0f64; MAX_TOKENS];
    for i in 0..at.len().saturating_sub(1) {
        let joined_len = at[i].text.len() + at[i + 1].text.len();
        // Only worth trying if some token of `b` is about that long.
        if !bt.iter().any(|t| t.text.len().abs_diff(joined_len) <= 2) {
            continue;
        }
        let joined = &a.joined[i];
        let (mut cells, mut rows) = (0, 0);
        for (k, t) in at.iter().enumerate() {
            if k == i {
                for y in bt {
                    sim[cells] = token_similarity(joined, y);
                    cells += 1;
                }
                wa[rows] = joined.weight;
                rows += 1;
            } else if k != i + 1 {
                sim[cells..cells + m].copy_from_slice(&base[k * m..(k + 1) * m]);
                cells += m;
                wa[rows] = t.weight;
                rows += 1;
            }
        }
        best = best.max(aligned_score(&sim[..cells], &wa[..rows], wb));
    }
    best
}

fn token_list_similarity(a: &PreparedName, b: &PreparedName) -> f64 {
    if a.toks.is_empty() || b.toks.is_empty() {
        return 0.0;
    }
    // Exact symmetry: always compare in one canonical order.
    let (a, b) = if a
        .toks
        .iter()
        .map(|t| &t.text)
        .le(b.toks.iter().map(|t| &t.text))
    {
        (a, b)
    } else {
        (b, a)
    };
    let (ta, tb) = (&a.toks, &b.toks);
    let mut base_buf = [0.0f64; MAX_CELLS];
    let base = similarity_matrix(ta, tb, &mut base_buf);
    let mut best = aligned_score(base, &a.weights, &b.weights);
    // A compound is joined on one side only, against the other as written.
    best = best.max(best_joined(a, b, base));
    let mut transposed = [0.0f64; MAX_CELLS];
    for (k, cell) in transposed[..tb.len() * ta.len()].iter_mut().enumerate() {
        *cell = base[(k % ta.len()) * tb.len() + k / ta.len()];
    }
    best = best.max(best_joined(b, a, &transposed[..tb.len() * ta.len()]));
    best.clamp(0.0, 1.0)
}

/// Similarity of two raw child names in 0..=1 (1 = the same name).
///
/// Both names are normalised ([`normalize_name`]) and split into tokens
/// (standalone articles joined: "Al Fatih" = "Alfatih"). Token pairs score:
/// - 1 when equal, 0.96 when their [`phonetic_key`]s agree (spelling
///   variants: Rizky/Rizqi, Aisyah/Aisah), 0.85 for an initial and a word
///   with that first letter (A. / Ahmad);
/// - otherwise a typo-aware edit similarity (see `edit_cost`: keyboard
///   neighbours, swapped letters and a/o, o/u cost half; a changed final
///   vowel costs 1.5), on the written tokens or on their keys, whichever is
///   higher. Below 0.9 it falls three times as fast (one edit in a short
///   real name is usually another name: Salma/Salwa, Nida/Nisa), unless
///   one token cannot be a name as written (Dnu, Wuln, Hafz: a typo).
///
/// Tokens are paired greedily by that score. The name score is the
/// weighted mean over the pairs, where tokens left over on one side (a
/// dropped second name, only the call name written) count together at
/// most a tenth of a token, and
/// very common tokens (Muhammad, Ahmad, Siti, Nur, Putri, ... and initials)
/// weigh 0.35, so that "Muhammad Rizky" and "Muhammad Rafi" stay apart.
/// Joined or split compounds (Nur Aini/Nuraini, Putri Nabila/Putrinabila)
/// are handled by also trying one name with two adjacent tokens joined.
/// Token order does not matter (swapped given names); the function is
/// symmetric; at most 12 tokens per name are compared.
///
/// A newborn placeholder ("By Ny Siti") compared with an ordinary name
/// gives 0: the names say nothing about each other ([`crate::likeness`]
/// compares the placeholder with the mother instead); two placeholders
/// compare their mothers' names. Empty names give 0.
///
/// Why not plain Jaro-Winkler: it was tried (on tokens and on phonetic
/// keys) and is too lenient on short names that differ by one letter
/// (Salma/Salwa 0.91, Rizki/Rizka 0.92); adding it to the edit similarity
/// did not change the separation on the synthetic set.
///
/// Values: Muhammad Rizky / M. Rizki 0.97; Khoirun Nisa / Khairunnisa 0.96;
/// Muhammad Rizky Pratama / Rizky 0.91; Aira Kusuma / Aira Kusuna 0.96;
/// Salma Aulia / Salwa Aulia 0.8; Salma / Salwa 0.6; Zaka Sanjaya / Zaki
/// Sanjaya 0.54; Rizki / Rizka 0.3; Muhammad Rizky / Muhammad Rafi 0.26;
/// Hasan / Husain 0.2.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    prepared_name_similarity(&PreparedName::new(a), &PreparedName::new(b))
}

/// [`name_similarity`] of two prepared names.
pub fn prepared_name_similarity(a: &PreparedName, b: &PreparedName) -> f64 {
    if a.placeholder != b.placeholder {
        return 0.0;
    }
    token_list_similarity(a, b)
}

/// How much a nickname match (Minah for Aminah) counts against writing
/// the same name.
const NICKNAME_FACTOR: f64 = 0.95;

/// Similarity of two mothers' names in 0..=1: [`name_similarity`] that also
/// accepts a nickname made of the end of a name (Aminah -> Minah, Wahyuni
/// -> Yuni, Maulidia -> Lidia, Fadilah -> Dilah), as mothers are often
/// known by such a name in the village. Honorifics ("Ny.", "Ibu") are
/// ignored by normalisation. Unlike [`name_similarity`], newborn
/// placeholders are not special here.
pub fn mother_name_similarity(a: &str, b: &str) -> f64 {
    prepared_mother_name_similarity(&PreparedName::new(a), &PreparedName::new(b))
}

/// [`mother_name_similarity`] of two prepared names.
pub fn prepared_mother_name_similarity(a: &PreparedName, b: &PreparedName) -> f64 {
    let base = token_list_similarity(a, b);
    if a.toks.is_empty() || b.toks.is_empty() {
        return base;
    }
    // Nickname: a token of one is the ending (>= 3 letters) of a token of
    // the other. Score as if the nickname were written in full, times
    // NICKNAME_FACTOR.
    let mut nick = 0.0f64;
    for x in &a.toks {
        for y in &b.toks {
            let (x, y) = (&x.text, &y.text);
            let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
            if short.len() >= 3 && short.len() < long.len() && long.ends_with(short.as_str()) {
                let replace = |p: &PreparedName| -> PreparedName {
                    let tokens = p
                        .toks
                        .iter()
                        .map(|t| {
                            if &t.text == long {
                                short.clone()
                            } else {
                                t.text.clone()
                            }
                        })
                        .collect();
                    PreparedName::from_tokens(p.placeholder, tokens)
                };
                let s = token_list_similarity(&replace(a), &replace(b));
                nick = nick.max(NICKNAME_FACTOR * s);
            }
        }
    }
    base.max(nick).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_punctuation_and_spaces() {
        assert_eq!(normalize_name("  AISYAH   Putri  "), "aisyah putri");
        assert_eq!(normalize_name("Nur-Aini"), "nur aini");
        assert_eq!(normalize_name("Ma'ruf Amin"), "maruf amin");
        assert_eq!(normalize_name("Zoë Amélie"), "zoe amelie");
        assert_eq!(normalize_name("Rizky😊Pratama"), "rizky pratama");
        assert_eq!(normalize_name(""), "");
        assert_eq!(normalize_name("   "), "");
        assert_eq!(normalize_name("😊🙂"), "");
        assert_eq!(normalize_name("محمد"), "");
    }

    #[test]
    fn canonicalises_muhammad() {
        for raw in [
            "M. Rizky",
            "M Rizky",
            "Moh. Rizky",
            "MOCH. RIZKY",
            "Muh Rizky",
            "Mochammad Rizky",
            "Muhamad Rizky",
            "Mohamad Rizky",
            "Mohammad Rizky",
            "Muhammad Rizky",
            "Mohh. Rizky",
            "Muhammat Rizky",
            "M.Rizky",
        ] {
            assert_eq!(normalize_name(raw), "muhammad rizky", "{raw}");
        }
        // A single letter M elsewhere is just an initial.
        assert_eq!(normalize_name("Rizky M"), "rizky m");
        assert_eq!(normalize_name("Akhmad Dava"), "ahmad dava");
        assert_eq!(normalize_name("Abd. Hakim"), "abdul hakim");
        assert_eq!(normalize_name("St. Khanza"), "siti khanza");
    }

    #[test]
    fn keeps_nurul_but_key_equates_it_with_nur() {
        assert_eq!(normalize_name("Nurul Aisyah"), "nurul aisyah");
        assert_eq!(phonetic_key("Nurul Aisyah"), phonetic_key("Nur Aisyah"));
        assert_eq!(phonetic_key("Noerul Aisyah"), phonetic_key("Nur Aisyah"));
    }

    #[test]
    fn removes_mothers_honorifics() {
        assert_eq!(normalize_name("Ny. Siti Aminah"), "siti aminah");
        assert_eq!(normalize_name("NYONYA Sumarni"), "sumarni");
        assert_eq!(normalize_name("Ibu Wahyuni"), "wahyuni");
        assert_eq!(normalize_name("Bu Rita"), "rita");
        assert_eq!(normalize_name("Ibu Hj. Khotimah"), "khotimah");
        assert_eq!(normalize_name("Ny."), "");
    }

    #[test]
    fn recognises_newborn_placeholders() {
        let cases = [
            ("By Ny Siti", Some("siti")),
            ("BY. NY. DESI DEWI YULIANA", Some("desi dewi yuliana")),
            ("Bayi Ny. Laila Masruroh", Some("laila masruroh")),
            ("Bayi Tukiyem", Some("tukiyem")),
            ("By. Marfuah", Some("marfuah")),
            ("AN. BY NY SUWARNI", Some("suwarni")),
            ("by ny. tika wahyuni", Some("tika wahyuni")),
            ("Bayi", Some("")),
            ("Bayu Pratama", None),
            ("An Nisa", None),
            ("Annisa", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(is_newborn_placeholder(raw).as_deref(), want, "{raw}");
        }
        assert_eq!(normalize_name("By. Ny. Siti Aminah"), "bayi ny siti aminah");
        assert_eq!(normalize_name("Bayi Tukiyem"), "bayi ny tukiyem");
        assert_eq!(normalize_name("BAYI"), "bayi");
    }

    #[test]
    fn normalising_is_idempotent() {
        for raw in [
            "By Ny Siti",
            "M. Rizky",
            "Ny. Aminah",
            "Az-Zahra",
            "An. By Ny Lia",
            "Ny. Bayi Siti",
            "Bayi Ny. By Siti",
            "Anak Bayi Siti",
            "Bayi",
            "Anak Rizky",
            "St. Aisyah",
        ] {
            let once = normalize_name(raw);
            assert_eq!(normalize_name(&once), once, "{raw}");
            assert_eq!(is_newborn_placeholder(&once), is_newborn_placeholder(raw));
        }
    }

    #[test]
    fn phonetic_keys_agree_on_spelling_variants() {
        let groups: &[&[&str]] = &[
            &["Rizky", "Rizki", "Risky", "Rizqi", "Rizqy"],
            &["Aisyah", "Aisah", "Aysyah", "Aisya"],
            &["Khoirunnisa", "Khairunnisa", "Khairunisa"],
            &["Azzahra", "Az Zahra", "Az-Zahra", "Azahra"],
            &["Al Fatih", "Alfatih", "Al-Fatih"],
            &["Fadhilah", "Fadila", "Fadhila"],
            &["Raffa", "Rava", "Rafa"],
            &["Yusuf", "Yusup"],
            &["Toekiyem", "Tukiyem"],
            &["Fadjar", "Fajar", "Pajar"],
            &["Keisha", "Kaisha"],
            &["Junaedi", "Junaidi", "Junaedie"],
            &["Rachmawati", "Rahmawati", "Rahmawatie"],
            &["Zhafran", "Zafran"],
            &["Tsabita", "Sabita"],
            &["Ahmad", "Ahmat", "Achmad", "Akhmad"],
            &["Khotimah", "Hotimah", "Chotimah"],
            &["Arkhan", "Arkan"],
            &["Fakhri", "Fahri"],
            &["Syifa", "Sifa", "Shifa"],
            &["Dzaki", "Zaki", "Zakki"],
            &["Nayla", "Naila"],
            &["Anggraeni", "Anggraini"],
            &["Juwariyah", "Juariah", "Juwariah"],
            &["Sitti", "Siti"],
        ];
        for group in groups {
            let first = phonetic_key(group[0]);
            for other in &group[1..] {
                assert_eq!(phonetic_key(other), first, "{} vs {other}", group[0]);
            }
        }
        assert_eq!(phonetic_key("Rizky"), "riski");
        assert_eq!(phonetic_key("Aisyah"), "aisa");
        assert_eq!(phonetic_key("Khoirunnisa"), "hairunisa");
        assert_eq!(phonetic_key("Az Zahra"), "asahra");
        assert_eq!(phonetic_key("Toekiyem"), "tukiem");
        assert_eq!(phonetic_key("Yusuf"), "iusup");
        assert_eq!(phonetic_key("Raffa"), "rapa");
        assert_eq!(phonetic_key("Fadhilah"), "padila");
        assert_eq!(phonetic_key("By Ny Siti"), "bai ni siti");
        assert_eq!(
            phonetic_key("Muhammad Rizky Pratama"),
            "muhamat riski pratama"
        );
    }

    #[test]
    fn phonetic_keys_keep_different_names_apart() {
        for (a, b) in [
            ("Hasan", "Husain"),
            ("Salma", "Salwa"),
            ("Rizki", "Rizka"),
            ("Putra", "Putri"),
            ("Yusuf", "Yunus"),
            ("Nida", "Nisa"),
            ("Arka", "Arkan"),
        ] {
            assert_ne!(phonetic_key(a), phonetic_key(b), "{a} vs {b}");
        }
    }

    fn sim(a: &str, b: &str) -> f64 {
        let s = name_similarity(a, b);
        let t = name_similarity(b, a);
        assert!(
            (s - t).abs() < 1e-12,
            "not symmetric: {a} / {b}: {s} vs {t}"
        );
        assert!((0.0..=1.0).contains(&s), "{a} / {b}: {s}");
        s
    }

    #[test]
    fn similar_names_score_high() {
        for (a, b) in [
            ("Muhammad Rizky", "M. Rizki"),
            ("Rizky", "Rizqi"),
            ("Rizky", "Risky"),
            ("Aisyah", "Aisah"),
            ("Khoirunnisa", "Khairunnisa"),
            ("Khoirun Nisa", "Khairunnisa"),
            ("Aisyah Azzahra", "Aisyah Az Zahra"),
            ("Muhammad Adam Al-Fatih", "M. ADAM AL FATIH"),
            ("Siti Arsyila Nur Aini", "Siti Arsyila Nuraini"),
            ("Putri Nabila Nuraini", "Putrinabila Nuraini"),
            ("Khanza Ramadhani", "RAMADHANI KHANZA"),
            ("Muhammad Rizky Pratama", "Rizky"),
            ("Aira Kusuma", "Aira Kusuna"),
            ("Hafiz Hakim", "Hafiz Hakmi"),
            ("Nurul Hasya Aprilia", "Nur Hasya Aprilia"),
            ("Abimanyoe Anugrah", "Abimanyu Anugrah"),
            ("Fajar Putra", "PAJAR PUTRA"),
            ("A. Dimas", "Ahmad Dimas"),
        ] {
            let s = sim(a, b);
            assert!(s >= 0.85, "{a} / {b}: {s}");
        }
        assert_eq!(sim("AISYAH PUTRI", "aisyah  putri"), 1.0);
    }

    #[test]
    fn different_names_score_low() {
        for (a, b) in [
            ("Hasan", "Husain"),
            ("Salma", "Salwa"),
            ("Rizki", "Rizka"),
            ("Rizky", "Rizka"),
            ("Yusuf", "Yunus"),
            ("Hasan Al Fatih", "Husain Al Fatih"),
            ("Salma Aulia", "Salwa Aulia"),
            ("Muhammad Rizky", "Muhammad Rafi"),
            ("Zaka Sanjaya", "Zaki Sanjaya"),
            ("Aisyah Putri", "Fatimah Putri"),
            ("Rizky Hanafi", "Virendra Hanafi"),
        ] {
            let s = sim(a, b);
            assert!(s <= 0.8, "{a} / {b}: {s}");
        }
    }

    #[test]
    fn documented_values() {
        for (a, b, want) in [
            ("Muhammad Rizky", "M. Rizki", 0.97),
            ("Khoirun Nisa", "Khairunnisa", 0.96),
            ("Muhammad Rizky Pratama", "Rizky", 0.91),
            ("Aira Kusuma", "Aira Kusuna", 0.96),
            ("Salma Aulia", "Salwa Aulia", 0.8),
            ("Salma", "Salwa", 0.6),
            ("Zaka Sanjaya", "Zaki Sanjaya", 0.54),
            ("Rizki", "Rizka", 0.3),
            ("Muhammad Rizky", "Muhammad Rafi", 0.26),
            ("Hasan", "Husain", 0.2),
        ] {
            let s = sim(a, b);
            assert!((s - want).abs() < 0.006, "{a} / {b}: {s}");
        }
    }

    #[test]
    fn placeholders_only_compare_with_placeholders() {
        assert_eq!(sim("By Ny Siti Aminah", "Siti Aminah"), 0.0);
        assert!(sim("By Ny Siti Aminah", "Bayi Siti Aminah") > 0.99);
        assert!(sim("By Ny Siti Aminah", "Bayi Ny Tukiyem") < 0.5);
    }

    #[test]
    fn empty_and_odd_input_does_not_panic() {
        for (a, b) in [
            ("", ""),
            ("", "Rizky"),
            ("😊", "😊"),
            ("1234", "1234"),
            ("a", "b"),
            ("Ny.", "Ibu"),
            ("By", "Bayi"),
            ("ẞ̶̧͝", "x"),
        ] {
            let _ = sim(a, b);
            let _ = mother_name_similarity(a, b);
            let _ = phonetic_key(a);
        }
        assert_eq!(sim("", ""), 0.0);
    }

    /// Deterministic pseudo-random strings over an alphabet with the
    /// awkward cases (punctuation, diacritics, emoji, combining marks,
    /// other scripts), for properties that must hold on any input.
    fn odd_strings(n: usize) -> Vec<String> {
        const ALPHABET: &[&str] = &[
            "a", "i", "u", "e", "o", "k", "h", "s", "y", "z", "m", "r", "n", "b", " ", " ", ".",
            "-", "'", "é", "Ö", "ß", "😊", "\u{301}", "محمد", "1", "By", "Ny", "M.", "Al", "Nurul",
            "Bayi", "An", "\t", "\n", "ǅ",
        ];
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let len = (state >> 59) as usize;
                (0..len)
                    .map(|k| {
                        let x = state.rotate_left(k as u32 * 7);
                        ALPHABET[(x % ALPHABET.len() as u64) as usize]
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn properties_hold_on_odd_input() {
        let strings = odd_strings(400);
        for (i, a) in strings.iter().enumerate() {
            let n = normalize_name(a);
            assert_eq!(normalize_name(&n), n, "idempotent: {a:?}");
            assert_eq!(
                is_newborn_placeholder(&n),
                is_newborn_placeholder(a),
                "{a:?}"
            );
            assert!(
                n.is_ascii() && !n.contains("  ") && n.trim() == n,
                "{a:?} -> {n:?}"
            );
            assert_eq!(phonetic_key(&n), phonetic_key(a), "{a:?}");
            if !n.is_empty() && is_newborn_placeholder(a).is_none() {
                assert_eq!(sim(a, a), 1.0, "{a:?}");
            }
            let b = &strings[(i * 7 + 3) % strings.len()];
            let _ = sim(a, b);
            let m = mother_name_similarity(a, b);
            assert_eq!(m, mother_name_similarity(b, a), "{a:?} / {b:?}");
            assert!((0.0..=1.0).contains(&m));
        }
        // Very long input stays cheap (tokens are capped).
        let long = "Rizky ".repeat(10_000);
        assert!(sim(&long, "Rizky Pratama") > 0.0);
        let _ = mother_name_similarity(&long, &long);
    }

    #[test]
    fn mothers_nicknames_are_recognised() {
        for (a, b) in [
            ("Siti Aminah", "Minah"),
            ("Wahyuni", "Ibu Hyuni"),
            ("Sitie Maulidia", "Lidia"),
            ("Siti Fadilah", "Dilah"),
            ("Ny. Lia Masruroh", "Lia Masruroh"),
            ("Maryam", "Ryam"),
        ] {
            let s = mother_name_similarity(a, b);
            assert!(s >= 0.8, "{a} / {b}: {s}");
        }
        assert!(mother_name_similarity("Siti Aminah", "Sumarni") < 0.5);
    }
}
