//! The results block: one row per figure with its target, printed as a Markdown table so it
//! can be pasted into BENCHMARKS.md as it stands.

/// Collected figures.
#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<Row>,
}

#[derive(Debug)]
struct Row {
    section: &'static str,
    measure: String,
    figure: String,
    target: String,
}

impl Report {
    /// Adds a figure (and prints it at once, so a long run shows progress).
    pub fn add(
        &mut self,
        section: &'static str,
        measure: impl Into<String>,
        figure: impl Into<String>,
        target: impl Into<String>,
    ) {
        let row = Row {
            section,
            measure: measure.into(),
            figure: figure.into(),
            target: target.into(),
        };
        eprintln!(
            "  [{}] {}: {}   (target: {})",
            row.section, row.measure, row.figure, row.target
        );
        self.rows.push(row);
    }

    /// The Markdown table of every figure.
    pub fn table(&self) -> String {
        let mut out =
            String::from("| section | measure | figure | target |\n| --- | --- | --- | --- |\n");
        for row in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                row.section, row.measure, row.figure, row.target
            ));
        }
        out
    }
}

/// `met` or `MISSED` against a target, for the target column.
pub fn verdict(met: bool, target: &str) -> String {
    if met {
        format!("{target} — met")
    } else {
        format!("{target} — MISSED")
    }
}
