//! The ".xls" that e-PPGBM and other web systems export is often an HTML
//! table with an Excel extension. This reads every `<table>` into rows of
//! text cells; the caller keeps the one whose header row it recognises.

use scraper::{Html, Selector};

use super::RawRow;
use super::fields::{Cell, collapse_spaces};

/// True when the bytes look like HTML rather than CSV or a binary workbook.
pub fn looks_like_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head).to_lowercase();
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    trimmed.starts_with('<') || text.contains("<table")
}

/// The tables of the document, each as rows numbered from 1 within it.
pub fn read_tables(text: &str) -> Vec<Vec<RawRow>> {
    let doc = Html::parse_document(text);
    let (Ok(table_sel), Ok(row_sel), Ok(cell_sel)) = (
        Selector::parse("table"),
        Selector::parse("tr"),
        Selector::parse("th, td"),
    ) else {
        return Vec::new();
    };
    doc.select(&table_sel)
        .map(|table| {
            table
                .select(&row_sel)
                // Rows of a nested table belong to that table.
                .filter(|tr| {
                    tr.ancestors()
                        .find(|n| n.value().as_element().is_some_and(|e| e.name() == "table"))
                        .map(|n| n.id())
                        == Some(table.id())
                })
                .enumerate()
                .map(|(i, tr)| {
                    let mut cells = Vec::new();
                    for td in tr.select(&cell_sel) {
                        let text = collapse_spaces(&td.text().collect::<String>());
                        cells.push(if text.is_empty() {
                            Cell::Empty
                        } else {
                            Cell::Text(text)
                        });
                        let span: usize = td
                            .value()
                            .attr("colspan")
                            .and_then(|s| s.trim().parse().ok())
                            .unwrap_or(1);
                        for _ in 1..span.min(100) {
                            cells.push(Cell::Empty);
                        }
                    }
                    RawRow { line: i + 1, cells }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_of_the_outer_table_only() {
        let html = "<html><body><h3>Daftar</h3><table><tr><th>Nama</th><th colspan=2>JK</th></tr>\
                    <tr><td> Budi&nbsp; </td><td>L</td><td><table><tr><td>x</td></tr></table></td></tr></table>";
        assert!(looks_like_html(html.as_bytes()));
        let tables = read_tables(html);
        assert_eq!(tables.len(), 2);
        assert_eq!(tables[0].len(), 2);
        assert_eq!(
            tables[0][0].cells,
            [
                Cell::Text("Nama".into()),
                Cell::Text("JK".into()),
                Cell::Empty
            ]
        );
        assert_eq!(tables[0][1].cells[0], Cell::Text("Budi".into()));
    }
}
