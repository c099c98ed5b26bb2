//! Files the audit screen exports: the checkpoint (text, QR code, printable page), the
//! activity CSV and the printable integrity report. All go to `<data dir>/exports/`, and
//! each export is itself an audit entry (with the file's SHA-256).

use std::path::PathBuf;

use guardia_audit::{EntryDraft, EntryKind, sha256_hex};
use guardia_ipc::{
    AuditEntryView, CheckpointExport, CheckpointFormat, ExportedFile, ReportExport, ReportKind,
};
use qrcode::QrCode;
use qrcode::render::svg;

use crate::audit::{CheckpointReason, audit_filter, entry_view};
use crate::{Api, ApiError, Caller};

/// The integrity report lists at most this many entries (newest first); the CSV as many.
const REPORT_ROWS: u32 = 10_000;

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One CSV field: quoted when needed, and defused when a spreadsheet would run it as a
/// formula (`=`, `+`, `-`, `@` at the start).
fn csv_field(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// A QR code (SVG) of `text`.
pub fn qr_svg(text: &str) -> Result<String, ApiError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(320, 320)
        .quiet_zone(true)
        .build())
}

const PRINT_STYLE: &str = "body{font-family:'Noto Sans CJK KR','Noto Sans',sans-serif;margin:2em;color:#000}\
pre{font-size:12pt;border:1px solid #999;padding:1em;white-space:pre-wrap;word-break:break-all}\
table{border-collapse:collapse;width:100%;font-size:9pt}td,th{border:1px solid #999;padding:2px 4px;text-align:left}\
.bad{background:#fdd}.unsigned{background:#ffe}.mono{font-family:monospace}@media print{button{display:none}}";

impl Api {
    fn exports_dir(&self) -> Result<PathBuf, ApiError> {
        let dir = self.data_dir.path().join("exports");
        crate::data_dir::private_dir(&dir).map_err(ApiError::Io)?;
        Ok(dir)
    }

    pub(crate) fn write_export(&self, name: &str, content: &str) -> Result<PathBuf, ApiError> {
        let path = self.exports_dir()?.join(name);
        crate::data_dir::write_private(&path, content.as_bytes())?;
        Ok(path)
    }

    /// Writes the newest checkpoint (signing a fresh one first if entries were added since)
    /// as text, QR code or printable page, and records that it left the console.
    pub async fn audit_checkpoint_export(
        &self,
        caller: &Caller,
        export: CheckpointExport,
    ) -> Result<ExportedFile, ApiError> {
        // Signing first means the export covers everything up to and including this moment.
        self.checkpoint_if_unsigned(caller, CheckpointReason::OnDemand)
            .await?;
        let checkpoint = self
            .store
            .latest_checkpoint()
            .await?
            .ok_or(ApiError::NoCheckpointCovers(0))?;
        let verifier = self.signing_key().await?.verifier().to_string();
        let stem = format!("checkpoint-{}", checkpoint.size);
        let (name, content) = match export.format {
            CheckpointFormat::Text => (format!("{stem}.txt"), checkpoint.note.clone()),
            CheckpointFormat::Qr => (format!("{stem}.svg"), qr_svg(&checkpoint.note)?),
            CheckpointFormat::Print => (
                format!("{stem}.html"),
                format!(
                    "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\">\
                     <title>GUARDiA audit checkpoint {size}</title><style>{PRINT_STYLE}</style></head><body>\
                     <h1>GUARDiA 감사 체크포인트 / audit checkpoint</h1>\
                     <p>로그 / log: <span class=\"mono\">{origin}</span><br>\
                     항목 수 / entries: <b>{size}</b><br>서명 시각 / signed: {at}</p>\
                     <pre>{note}</pre>{qr}\
                     <h2>검증 키 / verifier key</h2><pre>{verifier}</pre>\
                     <p>이 종이를 콘솔과 떨어진 곳에 보관하십시오. 나중에 이 체크포인트보다 항목이 적거나 \
                     다른 로그는 변조된 것입니다.<br>Keep this page away from the console. A log that later \
                     holds fewer entries than this, or different ones, has been tampered with. \
                     See docs/audit.md to verify it with your own script.</p>\
                     <button onclick=\"window.print()\">Print</button></body></html>",
                    size = checkpoint.size,
                    origin = html_escape(&self.origin),
                    at = checkpoint.created_at.to_rfc3339(),
                    note = html_escape(&checkpoint.note),
                    qr = qr_svg(&checkpoint.note)?,
                    verifier = html_escape(&verifier),
                ),
            ),
        };
        let path = self.write_export(&name, &content)?;
        let now = self.clock.now().to_utc();
        let entry = EntryDraft::new(
            now,
            EntryKind::AuditCheckpointExported,
            caller.name(),
            "audit:log",
        )
        .with("size", checkpoint.size)
        .with(
            "format",
            match export.format {
                CheckpointFormat::Text => "text",
                CheckpointFormat::Qr => "qr",
                CheckpointFormat::Print => "print",
            },
        )
        .with("file", name)
        .with("file_sha256", sha256_hex(content.as_bytes()));
        self.store
            .mark_checkpoint_exported(checkpoint.size, now, &entry)
            .await?;
        Ok(ExportedFile {
            path: path.display().to_string(),
            content,
        })
    }

    /// Writes the activity CSV or the printable integrity report for the entries matching
    /// the query (newest first, at most 10,000), and records the export.
    pub async fn audit_report_export(
        &self,
        caller: &Caller,
        export: ReportExport,
    ) -> Result<ExportedFile, ApiError> {
        let rows: Vec<AuditEntryView> = self
            .store
            .audit_page(&audit_filter(&export.query, REPORT_ROWS))
            .await?
            .iter()
            .map(entry_view)
            .collect();
        let stamp = self.clock.now().format("%Y%m%d-%H%M%S").to_string();
        let (name, content) = match export.kind {
            ReportKind::ActivityCsv => (format!("activity-{stamp}.csv"), activity_csv(&rows)),
            ReportKind::IntegrityHtml => {
                let status = self.audit_status().await?;
                (
                    format!("integrity-report-{stamp}.html"),
                    integrity_html(&self.origin, &status, &rows),
                )
            }
        };
        let path = self.write_export(&name, &content)?;
        let entry = EntryDraft::new(
            self.clock.now().to_utc(),
            EntryKind::AuditReportExported,
            caller.name(),
            "audit:log",
        )
        .with("file", name)
        .with("rows", rows.len() as u64)
        .with("file_sha256", sha256_hex(content.as_bytes()));
        self.store
            .append_audit(std::slice::from_ref(&entry))
            .await?;
        Ok(ExportedFile {
            path: path.display().to_string(),
            content,
        })
    }
}

fn activity_csv(rows: &[AuditEntryView]) -> String {
    let mut out = String::from("index,at,actor,kind,subject,result,details,leaf_sha256\n");
    for row in rows {
        let fields = [
            row.index.to_string(),
            row.at.to_rfc3339(),
            row.actor.clone(),
            row.kind.clone(),
            row.subject.clone(),
            row.result.clone(),
            row.details.clone(),
            row.leaf.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// The task and the target of an entry, from its subject and details.
fn task_and_target(row: &AuditEntryView) -> (String, String) {
    match row.subject.split_once(':') {
        Some(("task", id)) => (id.to_owned(), String::new()),
        Some(("server" | "site" | "system", _)) => (String::new(), row.subject.clone()),
        _ => (String::new(), row.subject.clone()),
    }
}

fn integrity_html(
    origin: &str,
    status: &guardia_ipc::AuditStatus,
    rows: &[AuditEntryView],
) -> String {
    let verification = status.last_verification.as_ref();
    let verified_ok = verification.is_some_and(|v| v.ok);
    let first_bad = verification.and_then(|v| v.first_bad);
    let signed_through = status.last_checkpoint.as_ref().map_or(0, |c| c.size);
    let summary = match verification {
        None => "아직 검증하지 않음 / never verified".to_owned(),
        Some(v) if v.ok => format!(
            "정상 / intact — {} entries, {} checkpoints, {}",
            v.entries,
            v.checkpoints,
            v.finished_at.to_rfc3339()
        ),
        Some(v) => format!(
            "실패 / FAILED at entry {} — {} ({})",
            v.first_bad.map_or("?".to_owned(), |b| b.to_string()),
            v.problem.clone().unwrap_or_default(),
            v.finished_at.to_rfc3339()
        ),
    };
    let mut table = String::new();
    for row in rows {
        let (task, target) = task_and_target(row);
        let (class, state) = match first_bad {
            Some(bad) if row.index >= bad => ("bad", "✗ untrusted / 신뢰 불가"),
            _ if row.index >= signed_through => ("unsigned", "… not yet signed / 미서명"),
            _ if verified_ok => ("", "✓ verified / 검증됨"),
            _ => ("", "signed / 서명됨"),
        };
        table.push_str(&format!(
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"mono\" title=\"{}\">{}…</td><td>{}</td></tr>",
            row.index,
            row.at.format("%Y-%m-%d %H:%M:%S"),
            html_escape(&row.actor),
            html_escape(&row.kind),
            html_escape(&task),
            html_escape(&target),
            html_escape(&row.result),
            row.leaf,
            &row.leaf[..row.leaf.len().min(16)],
            state,
        ));
    }
    format!(
        "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\">\
         <title>GUARDiA integrity report</title><style>{PRINT_STYLE}</style></head><body>\
         <h1>GUARDiA 무결성 보고서 / integrity report</h1>\
         <p>로그 / log: <span class=\"mono\">{origin}</span><br>\
         항목 / entries: {entries} · 최근 체크포인트 / last checkpoint: {signed_through}<br>\
         검증 키 / verifier key: <span class=\"mono\">{key}</span><br>\
         상태 / status: <b>{summary}</b></p>\
         <table><thead><tr><th>#</th><th>time (UTC)</th><th>actor</th><th>action</th><th>task</th>\
         <th>target</th><th>result</th><th>leaf hash</th><th>status</th></tr></thead><tbody>{table}</tbody></table>\
         <button onclick=\"window.print()\">Print</button></body></html>",
        origin = html_escape(origin),
        entries = status.entries,
        key = html_escape(
            status
                .verifier_key
                .as_deref()
                .unwrap_or("(keyring unavailable)")
        ),
        summary = html_escape(&summary),
    )
}

/// Writes via a temporary file and a rename, so a half-written export never exists.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("-1,2"), "\"'-1,2\"");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(html_escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
