//! Writers of a [`VervalReport`]: an aligned terminal table, CSV (area tables
//! and the by-name list as two files), JSON and an xlsx workbook.
//!
//! The report is computed once ([`super::compute`]); these only lay it out, so
//! every format shows the same numbers. Proportions are written as 0–1 in CSV
//! and JSON (machine-readable) and as percentages in the table and workbook
//! (for people).

use std::io::Write;
use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::{AreaRow, Rate, StuntedChild, Transitions, VervalError, VervalReport};

fn pct(rate: Option<&Rate>) -> String {
    match rate {
        Some(r) => format!(
            "{:.1} ({:.1}-{:.1})",
            r.value * 100.0,
            r.low * 100.0,
            r.high * 100.0
        ),
        None => "-".to_owned(),
    }
}

fn opt_pct(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{:.1}", v * 100.0))
}

const TRANSITION_HEADERS: [&str; 6] = [
    "new",
    "still_stunted",
    "recovered",
    "not_remeasured",
    "unassessed",
    "moved",
];

fn transition_values(t: &Transitions) -> [usize; 6] {
    [
        t.new,
        t.still_stunted,
        t.recovered,
        t.not_remeasured,
        t.unassessed,
        t.moved,
    ]
}

/// Writes `rows` under `header`, columns padded to their widest cell; the
/// columns in `left` are left-aligned, the others right-aligned.
fn aligned(
    out: &mut dyn Write,
    header: &[&str],
    rows: &[Vec<String>],
    left: &[usize],
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            let pad = " ".repeat(width.saturating_sub(cell.chars().count()));
            if i > 0 {
                text.push_str("  ");
            }
            if left.contains(&i) {
                text.push_str(cell);
                text.push_str(&pad);
            } else {
                text.push_str(&pad);
                text.push_str(cell);
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, &mut header.iter().copied())?;
    for row in rows {
        line(out, &mut row.iter().map(String::as_str))?;
    }
    Ok(())
}

fn table_row(row: &AreaRow) -> Vec<String> {
    let mut cells = vec![
        row.code.clone(),
        row.name.clone().unwrap_or_default(),
        row.register.to_string(),
        row.measured.to_string(),
        opt_pct(row.coverage),
        row.flagged.to_string(),
        row.stunted.to_string(),
        row.severely_stunted.to_string(),
        pct(row.stunting_prevalence.as_ref()),
        row.wasted.to_string(),
        pct(row.wasting_prevalence.as_ref()),
        row.underweight.to_string(),
        pct(row.underweight_prevalence.as_ref()),
    ];
    if let Some(t) = &row.transitions {
        cells.extend(transition_values(t).iter().map(usize::to_string));
    }
    cells
}

const TABLE_HEADER: [&str; 13] = [
    "code",
    "name",
    "register",
    "measured",
    "coverage %",
    "flagged",
    "stunted",
    "severe",
    "stunting % (95% CI)",
    "wasted",
    "wasting % (95% CI)",
    "underweight",
    "underweight % (95% CI)",
];

/// The report as aligned plain text: a heading, one block per level, then the by-name list.
pub fn write_table(report: &VervalReport, out: &mut dyn Write) -> Result<(), VervalError> {
    let mut heading = format!("Verval round {}", report.round);
    if let Some(previous) = &report.previous {
        heading.push_str(&format!(" (against {previous})"));
    }
    if let Some(area) = &report.area {
        heading.push_str(&format!(", area {area}"));
        if let Some(name) = &report.area_name {
            heading.push_str(&format!(" {name}"));
        }
    }
    writeln!(out, "{heading}")?;
    let mut header: Vec<&str> = TABLE_HEADER.to_vec();
    if report.previous.is_some() {
        header.extend(TRANSITION_HEADERS);
    }
    let total = table_row(&report.total);
    for table in &report.levels {
        writeln!(out)?;
        writeln!(out, "{}", table.level.title())?;
        let mut rows: Vec<Vec<String>> = table.rows.iter().map(table_row).collect();
        let mut total = total.clone();
        if let Some(code) = total.first_mut() {
            *code = "total".to_owned();
        }
        rows.push(total);
        aligned(out, &header, &rows, &[0, 1])?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Stunted children ({}), by posyandu and name",
        report.stunted_list.len()
    )?;
    if !report.revealed {
        writeln!(out, "{WITHHELD_NOTE}")?;
    }
    let mut header = LIST_COLUMNS.to_vec();
    if report.previous.is_some() {
        header.extend(["status", "moved"]);
    }
    let rows: Vec<Vec<String>> = report
        .stunted_list
        .iter()
        .map(|c| {
            let mut cells = list_cells(c);
            if report.previous.is_some() {
                cells.push(c.status.map(|s| s.code()).unwrap_or_default().to_owned());
                cells.push(if c.moved { "yes" } else { "" }.to_owned());
            }
            cells
        })
        .collect();
    aligned(out, &header, &rows, &[0, 1, 2, 5, 6, 7, 8, 11, 12, 13])?;
    if let Some(previous) = &report.previous {
        writeln!(out)?;
        writeln!(
            out,
            "Stunted in {previous}, not measured in {} ({}): last seen",
            report.round,
            report.not_remeasured_list.len()
        )?;
        let rows: Vec<Vec<String>> = report.not_remeasured_list.iter().map(list_cells).collect();
        aligned(out, &LIST_COLUMNS, &rows, &[0, 1, 2, 5, 6, 7, 8, 11])?;
    }
    if let Some(v) = &report.verification {
        writeln!(out)?;
        write_verification(v, out)?;
    }
    Ok(())
}

/// The figures both ways and what verification has left, as plain text.
pub fn write_verification(
    v: &super::worklist::VerificationSummary,
    out: &mut dyn Write,
) -> Result<(), VervalError> {
    writeln!(out, "Verification: the figures as recorded and reconciled")?;
    let rows = vec![
        {
            let mut r = table_row(&v.as_recorded);
            r[0] = "as recorded".into();
            r
        },
        {
            let mut r = table_row(&v.reconciled);
            r[0] = "reconciled".into();
            r
        },
    ];
    aligned(out, &TABLE_HEADER[..13], &rows, &[0, 1])?;
    writeln!(
        out,
        "reconciled: {} birth dates and {} sexes chosen from the evidence differ from the record",
        v.birth_dates_changed, v.sexes_changed
    )?;
    writeln!(
        out,
        "flagged {} children, verified {}; still unverified {} (stunted now but may not be: {}; \
         not stunted now but may be: {}) — `verval worklist` lists them",
        v.flagged, v.verified, v.unverified, v.may_leave, v.may_join
    )?;
    Ok(())
}

/// Said under a by-name list that is not revealed, so that an empty address
/// column reads as withheld rather than unknown.
const WITHHELD_NOTE: &str =
    "(NIK masked and addresses withheld; --reveal shows them, district only, audited)";

/// The columns of a by-name list in the terminal table.
const LIST_COLUMNS: [&str; 12] = [
    "posyandu", "name", "sex", "born", "age mo", "NIK", "mother", "address", "RT/RW", "date",
    "HAZ", "category",
];

/// A child's cells under [`LIST_COLUMNS`].
fn list_cells(c: &StuntedChild) -> Vec<String> {
    vec![
        match &c.posyandu_name {
            Some(name) => format!("{} {name}", c.posyandu),
            None => c.posyandu.clone(),
        },
        c.name.clone(),
        c.sex.clone(),
        c.birth_date.to_string(),
        c.age_months.to_string(),
        c.nik.clone().unwrap_or_default(),
        c.mother_name.clone(),
        c.address.clone().unwrap_or_default(),
        format!(
            "{}/{}",
            c.rt.as_deref().unwrap_or("-"),
            c.rw.as_deref().unwrap_or("-")
        ),
        c.date.to_string(),
        format!("{:.2}", c.haz),
        c.category.clone(),
    ]
}

/// The CSV header of [`write_csv`].
pub const CSV_HEADER: [&str; 29] = [
    "level",
    "code",
    "name",
    "register",
    "measured",
    "coverage",
    "flagged",
    "stunted",
    "severely_stunted",
    "stunting_denominator",
    "stunting_prevalence",
    "stunting_low",
    "stunting_high",
    "wasted",
    "wasting_denominator",
    "wasting_prevalence",
    "wasting_low",
    "wasting_high",
    "underweight",
    "underweight_denominator",
    "underweight_prevalence",
    "underweight_low",
    "underweight_high",
    "new",
    "still_stunted",
    "recovered",
    "not_remeasured",
    "unassessed",
    "moved",
];

fn rate_cells(rate: Option<&Rate>, cells: &mut Vec<String>) {
    match rate {
        Some(r) => cells.extend([
            r.denominator.to_string(),
            format!("{:.4}", r.value),
            format!("{:.4}", r.low),
            format!("{:.4}", r.high),
        ]),
        None => cells.extend(["0", "", "", ""].map(str::to_owned)),
    }
}

fn csv_row(level: &str, row: &AreaRow) -> Vec<String> {
    let mut cells = vec![
        level.to_owned(),
        row.code.clone(),
        row.name.clone().unwrap_or_default(),
        row.register.to_string(),
        row.measured.to_string(),
        row.coverage.map(|c| format!("{c:.4}")).unwrap_or_default(),
        row.flagged.to_string(),
        row.stunted.to_string(),
        row.severely_stunted.to_string(),
    ];
    rate_cells(row.stunting_prevalence.as_ref(), &mut cells);
    cells.push(row.wasted.to_string());
    rate_cells(row.wasting_prevalence.as_ref(), &mut cells);
    cells.push(row.underweight.to_string());
    rate_cells(row.underweight_prevalence.as_ref(), &mut cells);
    match &row.transitions {
        Some(t) => cells.extend(transition_values(t).iter().map(usize::to_string)),
        None => cells.extend(std::iter::repeat_n(String::new(), 6)),
    }
    cells
}

/// The area tables as one CSV, a `level` column first (`total` for the whole selection).
/// Proportions are 0–1 with four decimals; transition columns are empty without a
/// previous round.
pub fn write_csv(report: &VervalReport, out: &mut dyn Write) -> Result<(), VervalError> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(CSV_HEADER)?;
    csv.write_record(csv_row("total", &report.total))?;
    for table in &report.levels {
        for row in &table.rows {
            csv.write_record(csv_row(table.level.code(), row))?;
        }
    }
    csv.flush()?;
    Ok(())
}

/// The CSV header of [`write_list_csv`].
pub const LIST_CSV_HEADER: [&str; 19] = [
    "id",
    "name",
    "sex",
    "birth_date",
    "age_months",
    "nik",
    "mother_name",
    "address",
    "rt",
    "rw",
    "posyandu",
    "posyandu_name",
    "measurement_id",
    "date",
    "haz",
    "category",
    "status",
    "moved",
    "round",
];

fn list_row(round: &str, c: &StuntedChild) -> Vec<String> {
    vec![
        c.id.clone(),
        c.name.clone(),
        c.sex.clone(),
        c.birth_date.to_string(),
        c.age_months.to_string(),
        c.nik.clone().unwrap_or_default(),
        c.mother_name.clone(),
        c.address.clone().unwrap_or_default(),
        c.rt.clone().unwrap_or_default(),
        c.rw.clone().unwrap_or_default(),
        c.posyandu.clone(),
        c.posyandu_name.clone().unwrap_or_default(),
        c.measurement_id.clone(),
        c.date.to_string(),
        format!("{:.2}", c.haz),
        c.category.clone(),
        c.status.map(|s| s.code()).unwrap_or_default().to_owned(),
        c.moved.to_string(),
        round.to_owned(),
    ]
}

/// The by-name-by-address list of stunted children as CSV.
pub fn write_list_csv(report: &VervalReport, out: &mut dyn Write) -> Result<(), VervalError> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(LIST_CSV_HEADER)?;
    for child in &report.stunted_list {
        csv.write_record(list_row(&report.round, child))?;
    }
    csv.flush()?;
    Ok(())
}

/// The columns of the worklist CSV, one row per child to check.
pub const WORKLIST_CSV_HEADER: [&str; 20] = [
    "order",
    "child_id",
    "consequence",
    "posyandu",
    "posyandu_name",
    "name",
    "sex",
    "birth_date",
    "birth_date_reason",
    "birth_date_as_recorded",
    "nik",
    "mother_name",
    "address",
    "rt_rw",
    "measured_on",
    "haz",
    "haz_as_recorded",
    "haz_range",
    "category",
    "flags",
];

fn z_cell(z: Option<f64>) -> String {
    z.map(|z| format!("{z:.2}")).unwrap_or_default()
}

fn flags_cell(flags: &[super::flags::Flag]) -> String {
    flags
        .iter()
        .map(|f| match &f.resolved {
            Some(by) => format!("[{}] {} (selesai: {by})", f.kind.code(), f.reason),
            None => format!("[{}] {}", f.kind.code(), f.reason),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The worklist as CSV (UTF-8, one row per child, most consequential first).
pub fn write_worklist_csv(
    w: &super::worklist::Worklist,
    out: &mut dyn Write,
) -> Result<(), VervalError> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(WORKLIST_CSV_HEADER)?;
    for (i, e) in w.entries.iter().enumerate() {
        let range = e
            .haz_range
            .map(|(lo, hi)| format!("{lo:.2}..{hi:.2}"))
            .unwrap_or_default();
        let rt_rw = format!(
            "{}/{}",
            e.rt.as_deref().unwrap_or(""),
            e.rw.as_deref().unwrap_or("")
        );
        csv.write_record([
            (i + 1).to_string(),
            e.id.clone(),
            e.consequence_label.clone(),
            e.posyandu.clone(),
            e.posyandu_name.clone().unwrap_or_default(),
            e.name.clone(),
            e.sex.clone(),
            e.birth_date.to_string(),
            e.birth_date_reason.clone(),
            e.birth_date_as_recorded.to_string(),
            e.nik.clone().unwrap_or_default(),
            e.mother_name.clone(),
            e.address.clone().unwrap_or_default(),
            rt_rw,
            e.date.to_string(),
            z_cell(e.haz),
            z_cell(e.haz_as_recorded),
            range,
            e.category.clone(),
            flags_cell(&e.flags),
        ])?;
    }
    csv.flush()?;
    Ok(())
}

/// The worklist as plain text: the figures both ways, then one block per child.
pub fn write_worklist_table(
    w: &super::worklist::Worklist,
    out: &mut dyn Write,
) -> Result<(), VervalError> {
    let mut heading = format!("Verval worklist, round {}", w.round);
    if let Some(area) = &w.area {
        heading.push_str(&format!(", area {area}"));
    }
    writeln!(out, "{heading}")?;
    if !w.revealed {
        writeln!(out, "{WITHHELD_NOTE}")?;
    }
    writeln!(out)?;
    write_verification(&w.summary, out)?;
    writeln!(out)?;
    writeln!(
        out,
        "Children to check ({}), most consequential first",
        w.entries.len()
    )?;
    for (i, e) in w.entries.iter().enumerate() {
        writeln!(out)?;
        writeln!(
            out,
            "{}. {} — {} ({}), posyandu {}{}",
            i + 1,
            e.consequence_label,
            e.name,
            e.sex,
            e.posyandu,
            e.posyandu_name
                .as_deref()
                .map(|n| format!(" {n}"))
                .unwrap_or_default()
        )?;
        writeln!(
            out,
            "   lahir {} ({}); tercatat {}; NIK {}; ibu {}",
            e.birth_date,
            e.birth_date_reason,
            e.birth_date_as_recorded,
            e.nik.as_deref().unwrap_or("-"),
            e.mother_name
        )?;
        // RT/RW are area, shown always; the street address only when revealed.
        let rt_rw = format!(
            "RT {} / RW {}",
            e.rt.as_deref().unwrap_or("-"),
            e.rw.as_deref().unwrap_or("-")
        );
        match e.address.as_deref().filter(|_| w.revealed) {
            Some(address) => writeln!(out, "   {rt_rw}; alamat {address}")?,
            None => writeln!(out, "   {rt_rw}")?,
        }
        writeln!(
            out,
            "   diukur {}: TB/U {} (tercatat {}), kategori {}{}",
            e.date,
            e.haz.map_or("-".into(), super::flags::z_id),
            e.haz_as_recorded.map_or("-".into(), super::flags::z_id),
            e.category,
            e.haz_range
                .map(|(lo, hi)| format!(
                    ", bisa {} s.d. {}",
                    super::flags::z_id(lo),
                    super::flags::z_id(hi)
                ))
                .unwrap_or_default()
        )?;
        for f in &e.flags {
            match &f.resolved {
                Some(by) => writeln!(out, "   ✓ {} (selesai: {by})", f.reason)?,
                None => writeln!(out, "   • {}", f.reason)?,
            }
        }
        writeln!(out, "   id {}", e.id)?;
    }
    Ok(())
}

/// The whole report as pretty-printed JSON (the serde form of [`VervalReport`]).
pub fn write_json(report: &VervalReport, out: &mut dyn Write) -> Result<(), VervalError> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)?;
    Ok(())
}

fn xlsx_error(path: &Path) -> impl Fn(XlsxError) -> VervalError + '_ {
    move |source| VervalError::Xlsx {
        path: path.to_owned(),
        source,
    }
}

/// Writes `header` in bold on row 0.
fn xlsx_header(sheet: &mut Worksheet, header: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (col, title) in (0u16..).zip(header) {
        sheet.write_string_with_format(0, col, *title, bold)?;
    }
    Ok(())
}

fn xlsx_area_sheet(
    sheet: &mut Worksheet,
    rows: &[&AreaRow],
    with_previous: bool,
    bold: &Format,
    percent: &Format,
) -> Result<(), XlsxError> {
    let mut header: Vec<&str> = CSV_HEADER.get(1..23).unwrap_or_default().to_vec();
    if with_previous {
        header.extend(TRANSITION_HEADERS);
    }
    xlsx_header(sheet, &header, bold)?;
    for (r, row) in (1u32..).zip(rows) {
        let count = |n: usize| n as f64;
        sheet.write_string(r, 0, &row.code)?;
        sheet.write_string(r, 1, row.name.as_deref().unwrap_or(""))?;
        sheet.write_number(r, 2, count(row.register))?;
        sheet.write_number(r, 3, count(row.measured))?;
        if let Some(c) = row.coverage {
            sheet.write_number_with_format(r, 4, c, percent)?;
        }
        sheet.write_number(r, 5, count(row.flagged))?;
        sheet.write_number(r, 6, count(row.stunted))?;
        sheet.write_number(r, 7, count(row.severely_stunted))?;
        let mut col = 8u16;
        let rates = [
            (None, row.stunting_prevalence.as_ref()),
            (Some(row.wasted), row.wasting_prevalence.as_ref()),
            (Some(row.underweight), row.underweight_prevalence.as_ref()),
        ];
        for (cases, rate) in rates {
            if let Some(cases) = cases {
                sheet.write_number(r, col, count(cases))?;
                col += 1;
            }
            sheet.write_number(r, col, count(rate.map_or(0, |x| x.denominator)))?;
            if let Some(rate) = rate {
                sheet.write_number_with_format(r, col + 1, rate.value, percent)?;
                sheet.write_number_with_format(r, col + 2, rate.low, percent)?;
                sheet.write_number_with_format(r, col + 3, rate.high, percent)?;
            }
            col += 4;
        }
        if let Some(t) = row.transitions.as_ref().filter(|_| with_previous) {
            for value in transition_values(t) {
                sheet.write_number(r, col, count(value))?;
                col += 1;
            }
        }
    }
    sheet.autofit();
    Ok(())
}

/// The report as an xlsx workbook: a `Total` sheet, one sheet per level, and a `Stunted`
/// sheet with the by-name list (NIK, RT and RW as text so Excel keeps them as written).
pub fn write_xlsx(report: &VervalReport, path: &Path) -> Result<(), VervalError> {
    let err = xlsx_error(path);
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let decimal = Format::new().set_num_format("0.00");
    let with_previous = report.previous.is_some();

    let sheet = book.add_worksheet().set_name("Total").map_err(&err)?;
    xlsx_area_sheet(sheet, &[&report.total], with_previous, &bold, &percent).map_err(&err)?;
    for table in &report.levels {
        let sheet = book
            .add_worksheet()
            .set_name(table.level.title())
            .map_err(&err)?;
        let rows: Vec<&AreaRow> = table.rows.iter().collect();
        xlsx_area_sheet(sheet, &rows, with_previous, &bold, &percent).map_err(&err)?;
    }

    if let Some(v) = &report.verification {
        let sheet = book
            .add_worksheet()
            .set_name("Verification")
            .map_err(&err)?;
        let named = |row: &AreaRow, code: &str| AreaRow {
            code: code.to_owned(),
            name: None,
            ..row.clone()
        };
        let (recorded, reconciled) = (
            named(&v.as_recorded, "as recorded"),
            named(&v.reconciled, "reconciled"),
        );
        xlsx_area_sheet(sheet, &[&recorded, &reconciled], false, &bold, &percent).map_err(&err)?;
        let counts = [
            ("birth dates changed by the evidence", v.birth_dates_changed),
            ("sexes changed by the evidence", v.sexes_changed),
            ("children flagged", v.flagged),
            ("flagged and verified", v.verified),
            ("still unverified (worklist)", v.unverified),
            ("stunted now, may not be", v.may_leave),
            ("not stunted now, may be", v.may_join),
        ];
        for (r, (label, n)) in (4u32..).zip(counts) {
            sheet.write_string(r, 0, label).map_err(&err)?;
            sheet.write_number(r, 1, n as f64).map_err(&err)?;
        }
        sheet.autofit();
    }

    let sheet = book.add_worksheet().set_name("Stunted").map_err(&err)?;
    xlsx_header(sheet, &LIST_CSV_HEADER, &bold).map_err(&err)?;
    for (r, child) in (1u32..).zip(&report.stunted_list) {
        for (col, cell) in (0u16..).zip(list_row(&report.round, child)) {
            match col {
                4 => sheet.write_number(r, col, child.age_months as f64),
                14 => sheet.write_number_with_format(r, col, child.haz, &decimal),
                _ => sheet.write_string(r, col, cell),
            }
            .map_err(&err)?;
        }
    }
    sheet.autofit();
    book.save(path).map_err(&err)?;
    Ok(())
}
