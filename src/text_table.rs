//! Query results as a text table for a terminal, bounded like the DuckDB
//! CLI's: at most `max_rows` rows (the rest counted, "… N more rows"),
//! cells cut at `max_width` characters with `…`, line breaks shown as
//! `\n`, numbers right-aligned, and the row count under the table. The
//! batches after the shown rows are only counted, so a huge result costs
//! no memory; CSV, JSON and Parquet stay complete (`tabular`).

use std::io::Write;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::error::{FerryError, Result};

/// How much of a result a table shows.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Rows shown; 0: all.
    pub max_rows: usize,
    /// Characters per cell; 0: whole cells.
    pub max_width: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_rows: 40,
            max_width: 40,
        }
    }
}

fn err(e: impl std::fmt::Display) -> FerryError {
    crate::tabular::results_error(e)
}

/// A cell as shown: one line, cut at `max` characters.
fn cell(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .flat_map(|c| match c {
            '\n' => vec!['\\', 'n'],
            '\r' => vec!['\\', 'r'],
            '\t' => vec![' '],
            c => vec![c],
        })
        .collect();
    if max == 0 || one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Writes `batches` as a bounded table; returns the number of rows.
pub fn write<W: Write>(
    schema: SchemaRef,
    batches: impl Iterator<Item = RecordBatch>,
    mut out: W,
    limits: Limits,
) -> Result<u64> {
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| cell(f.name(), limits.max_width))
        .collect();
    let numeric: Vec<bool> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().is_numeric())
        .collect();
    let options = FormatOptions::default().with_null("NULL");
    let mut shown: Vec<Vec<String>> = Vec::new();
    let mut total = 0u64;
    for b in batches {
        let room = if limits.max_rows == 0 {
            usize::MAX
        } else {
            limits.max_rows.saturating_sub(shown.len())
        };
        if room > 0 {
            let formatters = b
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(err)?;
            for r in 0..b.num_rows().min(room) {
                shown.push(
                    formatters
                        .iter()
                        .map(|f| cell(&f.value(r).to_string(), limits.max_width))
                        .collect(),
                );
            }
        }
        total += b.num_rows() as u64;
    }
    let mut widths: Vec<usize> = names.iter().map(|n| n.chars().count()).collect();
    for row in &shown {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let rule = format!(
        "+{}+",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("+")
    );
    let line = |cells: &[String], right: &[bool]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .zip(right)
            .map(|((c, w), r)| {
                let pad = w - c.chars().count();
                if *r {
                    format!(" {}{c} ", " ".repeat(pad))
                } else {
                    format!(" {c}{} ", " ".repeat(pad))
                }
            })
            .collect();
        format!("|{}|", parts.join("|"))
    };
    writeln!(out, "{rule}").map_err(err)?;
    writeln!(out, "{}", line(&names, &vec![false; names.len()])).map_err(err)?;
    writeln!(out, "{rule}").map_err(err)?;
    for row in &shown {
        writeln!(out, "{}", line(row, &numeric)).map_err(err)?;
    }
    let hidden = total - shown.len() as u64;
    if hidden > 0 {
        let inner = rule.len().saturating_sub(4);
        let text = format!("… {hidden} more rows");
        writeln!(out, "| {text:<inner$} |").map_err(err)?;
    }
    writeln!(out, "{rule}").map_err(err)?;
    let noun = if total == 1 { "row" } else { "rows" };
    if hidden > 0 {
        writeln!(
            out,
            "{total} {noun}, {} shown (--max-rows N, 0 for all; --format csv|json|jsonl|parquet -o FILE writes every row)",
            shown.len()
        )
        .map_err(err)?;
    } else {
        writeln!(out, "{total} {noun}").map_err(err)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    #[test]
    fn a_long_result_is_cut_and_counted_and_wide_cells_shortened() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("number", DataType::Int64, false),
            Field::new("text", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values(0..100)),
                Arc::new(StringArray::from_iter_values(
                    (0..100).map(|i| format!("line\n{}", "x".repeat(i + 20))),
                )),
            ],
        )
        .unwrap();
        let mut out = Vec::new();
        let n = write(
            schema,
            vec![batch.clone(), batch].into_iter(),
            &mut out,
            Limits {
                max_rows: 5,
                max_width: 12,
            },
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(n, 200);
        assert!(text.contains("… 195 more rows"), "{text}");
        assert!(text.contains("200 rows, 5 shown"), "{text}");
        assert!(text.contains("line\\nxxxxx…"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() < 200), "{text}");
        // Numbers are right-aligned under a wider header.
        assert!(text.contains("|      0 |"), "{text}");
    }
}
