//! `export`: every agreement as a readable document (Markdown, to print or bring to a
//! counselling session) or as the same data in JSON; the document comes from the core.

use super::Ctx;
use crate::cli::{ExportArgs, ExportFormat};
use crate::error::{CliError, CliResult};
use crate::output::{plural, Report};
use serde_json::json;

pub fn export(ctx: &Ctx, a: &ExportArgs) -> CliResult<Report> {
    let doc = ctx.open()?.export(ctx.now)?;
    let (format, content) = match a.format {
        ExportFormat::Markdown => ("markdown", doc.to_markdown()),
        ExportFormat::Json => (
            "json",
            serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n",
        ),
    };
    match &a.out {
        Some(path) => {
            std::fs::write(path, &content).map_err(|source| CliError::Io {
                path: path.clone(),
                source,
            })?;
            Ok(Report::new(
                json!({ "written": path, "format": format, "agreements": doc.agreements.len() }),
                format!(
                    "Wrote {} to {} ({format}).\n",
                    plural(doc.agreements.len(), "agreement"),
                    path.display()
                ),
            ))
        }
        None => {
            let json = match a.format {
                ExportFormat::Json => serde_json::to_value(&doc).unwrap_or_default(),
                ExportFormat::Markdown => json!({ "format": "markdown", "content": content }),
            };
            Ok(Report {
                json,
                text: content,
                note: None,
            })
        }
    }
}
