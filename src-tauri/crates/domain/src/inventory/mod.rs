//! The inventory: institutions → systems → sites → servers, as validated records.
//!
//! A [`ServerRecord`] is one server with the site, system and institution it belongs to —
//! the shape of a CSV row, an edit form and an Ansible host alike. Raw rows are validated
//! into records in one place ([`ServerDraft::validate`]); imports ([`csv`], [`ansible`]) are
//! all-or-nothing and report every bad row with its line number.

pub mod ansible;
pub mod csv;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::excerpt;

/// The longest value any inventory field may hold, in bytes (a path, a URL, a pattern).
pub const MAX_FIELD_BYTES: usize = 2048;
/// The longest inventory file an import reads, in bytes (about 100,000 servers as CSV).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// The most servers one import file may name (after Ansible ranges are expanded).
pub const MAX_SERVERS: usize = 100_000;

/// Which commands a system's servers accept. The denylist refuses known-dangerous commands
/// but cannot prove a command safe; a system in `PlaybookOnly` mode (allowlist mode) runs only
/// the steps of reviewed playbooks, and every ad-hoc command is refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandMode {
    /// Ad-hoc commands run when the denylist lets them through.
    #[default]
    Denylist,
    /// Only playbook steps run.
    PlaybookOnly,
}

impl CommandMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Denylist => "denylist",
            Self::PlaybookOnly => "playbook_only",
        }
    }

    /// From its stored name, or as typed (`playbook-only`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().replace('-', "_").as_str() {
            "denylist" => Some(Self::Denylist),
            "playbook_only" | "allowlist" => Some(Self::PlaybookOnly),
            _ => None,
        }
    }
}

/// How critical a site is. Drives rollout order and gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum Tier {
    /// Mission-critical: manual gates.
    Critical = 1,
    Standard = 2,
    /// Test and development sites: canaries go here first.
    Test = 3,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Critical, Tier::Standard, Tier::Test];

    pub fn number(self) -> u8 {
        self as u8
    }

    pub fn from_number(n: u8) -> Option<Self> {
        match n {
            1 => Some(Self::Critical),
            2 => Some(Self::Standard),
            3 => Some(Self::Test),
            _ => None,
        }
    }
}

impl From<Tier> for u8 {
    fn from(t: Tier) -> u8 {
        t.number()
    }
}

impl TryFrom<u8> for Tier {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        Self::from_number(n).ok_or_else(|| format!("tier must be 1, 2 or 3, not {n}"))
    }
}

/// How the console logs in to a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    Password,
    Key,
}

impl AuthKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Key => "key",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "password" => Some(Self::Password),
            "key" | "publickey" | "public-key" => Some(Self::Key),
            _ => None,
        }
    }
}

/// What "healthy" means for a server. Every criterion is optional; the ones given must all hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCriteria {
    pub tcp_port: Option<u16>,
    pub http_url: Option<String>,
    pub http_status: Option<u16>,
    pub http_max_ms: Option<u32>,
    pub process: Option<String>,
    pub log_file: Option<String>,
    pub log_error_pattern: Option<String>,
}

/// One server and where it sits in the hierarchy. Valid by construction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRecord {
    pub institution: String,
    pub system: String,
    pub site: String,
    pub tier: Tier,
    /// Unique across the inventory.
    pub server: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub auth: AuthKind,
    /// Name of the credential (kept in the OS keyring) this server logs in with.
    pub credential: Option<String>,
    pub os: String,
    pub app_path: Option<String>,
    pub deploy_path: Option<String>,
    pub service_port: Option<u16>,
    pub health: HealthCriteria,
    pub tags: Vec<String>,
}

/// A server as typed or read, before validation: every field a string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerDraft {
    pub institution: String,
    pub system: String,
    pub site: String,
    pub tier: String,
    pub server: String,
    pub address: String,
    pub port: String,
    pub user: String,
    pub auth: String,
    pub credential: String,
    pub os: String,
    pub app_path: String,
    pub deploy_path: String,
    pub service_port: String,
    pub health_tcp_port: String,
    pub health_http_url: String,
    pub health_http_status: String,
    pub health_http_max_ms: String,
    pub health_process: String,
    pub health_log_file: String,
    pub health_log_error_pattern: String,
    pub tags: String,
}

/// One thing wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

fn problem(field: &'static str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field,
        message: message.into(),
    }
}

fn name(field: &'static str, raw: &str, out: &mut Vec<FieldProblem>) -> String {
    let v = raw.trim();
    if v.is_empty() {
        out.push(problem(field, "is required"));
    } else if v.chars().count() > 100 {
        out.push(problem(field, "is longer than 100 characters"));
    } else if v.chars().any(char::is_control) {
        out.push(problem(field, "holds a control character"));
    } else if let Some(c) = crate::text::find_invisible(v) {
        out.push(problem(field, format!("holds the invisible character {c}")));
    }
    v.to_owned()
}

/// Letters, digits, `.`, `_`, `-` — safe in file names, shell words and URLs.
fn identifier(field: &'static str, raw: &str, out: &mut Vec<FieldProblem>) -> String {
    let v = raw.trim();
    if v.is_empty() {
        out.push(problem(field, "is required"));
    } else if v.len() > 64
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        out.push(problem(
            field,
            format!(
                "`{}` may hold only letters, digits, '.', '_' and '-' (at most 64)",
                excerpt(v, 64)
            ),
        ));
    }
    v.to_owned()
}

fn optional(raw: &str) -> Option<&str> {
    let v = raw.trim();
    (!v.is_empty()).then_some(v)
}

fn number<T: std::str::FromStr + PartialOrd + fmt::Display + Copy>(
    field: &'static str,
    raw: &str,
    min: T,
    max: T,
    out: &mut Vec<FieldProblem>,
) -> Option<T> {
    let v = optional(raw)?;
    match v.parse::<T>() {
        Ok(n) if n >= min && n <= max => Some(n),
        _ => {
            out.push(problem(
                field,
                format!("`{}` is not a number from {min} to {max}", excerpt(v, 20)),
            ));
            None
        }
    }
}

fn absolute_path(field: &'static str, raw: &str, out: &mut Vec<FieldProblem>) -> Option<String> {
    let v = optional(raw)?;
    if !v.starts_with('/') {
        out.push(problem(
            field,
            format!("`{}` must be an absolute path", excerpt(v, 64)),
        ));
    } else if v.split('/').any(|part| part == "..") {
        out.push(problem(
            field,
            format!("`{}` must not contain `..`", excerpt(v, 64)),
        ));
    } else if v.chars().any(char::is_control) {
        out.push(problem(field, "holds a control character"));
    } else if let Some(c) = crate::text::find_invisible(v) {
        out.push(problem(field, format!("holds the invisible character {c}")));
    }
    Some(v.to_owned())
}

fn address(raw: &str, out: &mut Vec<FieldProblem>) -> String {
    let v = raw.trim();
    if v.is_empty() {
        out.push(problem("address", "is required"));
    } else if v.len() > 253
        || v.starts_with('-')
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
    {
        out.push(problem(
            "address",
            format!("`{}` is not a host name or IP address", excerpt(v, 64)),
        ));
    }
    v.to_owned()
}

/// `field` and `field_mut` by CSV column name: the columns are the draft's field names.
macro_rules! column_accessors {
    ($($column:ident),* $(,)?) => {
        /// The value of the CSV column `column` (docs/inventory.md).
        pub fn field(&self, column: &str) -> Option<&str> {
            match column {
                $(stringify!($column) => Some(&self.$column),)*
                _ => None,
            }
        }

        /// The field of the CSV column `column`, for importers and forms that address
        /// fields by name.
        pub fn field_mut(&mut self, column: &str) -> Option<&mut String> {
            match column {
                $(stringify!($column) => Some(&mut self.$column),)*
                _ => None,
            }
        }
    };
}

impl ServerDraft {
    column_accessors!(
        institution,
        system,
        site,
        tier,
        server,
        address,
        port,
        user,
        auth,
        credential,
        os,
        app_path,
        deploy_path,
        service_port,
        health_tcp_port,
        health_http_url,
        health_http_status,
        health_http_max_ms,
        health_process,
        health_log_file,
        health_log_error_pattern,
        tags
    );

    /// The record, or every problem with the draft.
    pub fn validate(&self) -> Result<ServerRecord, Vec<FieldProblem>> {
        let mut p = Vec::new();
        // Sizes first, and without echoing the value: a 50 MB cell must not come back in the
        // error, nor be copied around by the checks below.
        let mut oversize = false;
        for column in csv::COLUMNS {
            let len = self.field(column).map_or(0, str::len);
            if len > MAX_FIELD_BYTES {
                oversize = true;
                p.push(FieldProblem {
                    field: column,
                    message: format!("is {len} bytes long; at most {MAX_FIELD_BYTES}"),
                });
            }
        }
        if oversize {
            return Err(p);
        }
        let institution = name("institution", &self.institution, &mut p);
        let system = name("system", &self.system, &mut p);
        let site = name("site", &self.site, &mut p);
        let tier = match self.tier.trim() {
            "" => Tier::Standard,
            t => match t.parse::<u8>().ok().and_then(Tier::from_number) {
                Some(t) => t,
                None => {
                    p.push(problem("tier", format!("`{t}` is not 1, 2 or 3")));
                    Tier::Standard
                }
            },
        };
        let server = identifier("server", &self.server, &mut p);
        let address = address(&self.address, &mut p);
        let port = if self.port.trim().is_empty() {
            22
        } else {
            number("port", &self.port, 1u16, 65535, &mut p).unwrap_or(22)
        };
        let user = self.user.trim().to_owned();
        if user.is_empty() {
            p.push(problem("user", "is required"));
        } else if user.len() > 32
            || !user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            p.push(problem("user", format!("`{user}` is not a login name")));
        }
        let auth = match optional(&self.auth) {
            None => AuthKind::Key,
            Some(a) => AuthKind::from_code(a).unwrap_or_else(|| {
                p.push(problem("auth", format!("`{a}` is not `password` or `key`")));
                AuthKind::Key
            }),
        };
        let credential = optional(&self.credential).map(|c| identifier("credential", c, &mut p));
        let os = self.os.trim().to_owned();
        let app_path = absolute_path("app_path", &self.app_path, &mut p);
        let deploy_path = absolute_path("deploy_path", &self.deploy_path, &mut p);
        let service_port = number("service_port", &self.service_port, 1u16, 65535, &mut p);
        let http_url = optional(&self.health_http_url).map(str::to_owned);
        if let Some(url) = &http_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            p.push(problem(
                "health_http_url",
                format!("`{url}` must start with http:// or https://"),
            ));
        }
        let health = HealthCriteria {
            tcp_port: number(
                "health_tcp_port",
                &self.health_tcp_port,
                1u16,
                65535,
                &mut p,
            ),
            http_status: number(
                "health_http_status",
                &self.health_http_status,
                100u16,
                599,
                &mut p,
            ),
            http_max_ms: number(
                "health_http_max_ms",
                &self.health_http_max_ms,
                1u32,
                600_000,
                &mut p,
            ),
            http_url,
            process: optional(&self.health_process).map(str::to_owned),
            log_file: absolute_path("health_log_file", &self.health_log_file, &mut p),
            log_error_pattern: optional(&self.health_log_error_pattern).map(str::to_owned),
        };
        if let Some(pattern) = &health.log_error_pattern
            && let Err(e) = regex_syntax::ast::parse::ParserBuilder::new()
                .nest_limit(32)
                .build()
                .parse(pattern)
        {
            p.push(problem(
                "health_log_error_pattern",
                format!(
                    "is not a valid pattern: {}",
                    excerpt(&e.kind().to_string(), 120)
                ),
            ));
        }
        if let Some(c) = [&health.http_url, &health.process]
            .into_iter()
            .flatten()
            .chain([&os])
            .find_map(|v| crate::text::find_invisible(v))
        {
            p.push(problem(
                "health",
                format!("holds the invisible character {c}"),
            ));
        }
        let mut tags: Vec<String> = self
            .tags
            .split([';', ','])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(t) = tags.iter().find(|t| {
            t.chars().count() > 64
                || t.chars().any(char::is_control)
                || crate::text::find_invisible(t).is_some()
        }) {
            p.push(problem(
                "tags",
                format!(
                    "`{}` is not a tag (at most 64 visible characters)",
                    excerpt(t, 64)
                ),
            ));
        }
        tags.sort();
        tags.dedup();
        if p.is_empty() {
            Ok(ServerRecord {
                institution,
                system,
                site,
                tier,
                server,
                address,
                port,
                user,
                auth,
                credential,
                os,
                app_path,
                deploy_path,
                service_port,
                health,
                tags,
            })
        } else {
            Err(p)
        }
    }
}

impl ServerRecord {
    /// Back to a draft (for the edit form and CSV export).
    pub fn to_draft(&self) -> ServerDraft {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let num = |v: Option<u16>| v.map(|n| n.to_string()).unwrap_or_default();
        ServerDraft {
            institution: self.institution.clone(),
            system: self.system.clone(),
            site: self.site.clone(),
            tier: self.tier.number().to_string(),
            server: self.server.clone(),
            address: self.address.clone(),
            port: self.port.to_string(),
            user: self.user.clone(),
            auth: self.auth.code().to_owned(),
            credential: opt(&self.credential),
            os: self.os.clone(),
            app_path: opt(&self.app_path),
            deploy_path: opt(&self.deploy_path),
            service_port: num(self.service_port),
            health_tcp_port: num(self.health.tcp_port),
            health_http_url: opt(&self.health.http_url),
            health_http_status: num(self.health.http_status),
            health_http_max_ms: self
                .health
                .http_max_ms
                .map(|n| n.to_string())
                .unwrap_or_default(),
            health_process: opt(&self.health.process),
            health_log_file: opt(&self.health.log_file),
            health_log_error_pattern: opt(&self.health.log_error_pattern),
            tags: self.tags.join(";"),
        }
    }
}

/// Which columns an import file actually gave for a row (bit *i* = [`csv::COLUMNS`]`[i]`).
/// A column the file does not have keeps the stored value: a file without `tier` must not
/// reset the tier of servers already known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Given(u32);

impl Given {
    /// Every column (a form, a bundle, an export read back).
    pub const ALL: Given = Given((1 << csv::COLUMNS.len()) - 1);

    fn bit(column: &str) -> u32 {
        csv::COLUMNS
            .iter()
            .position(|c| *c == column)
            .map_or(0, |i| 1 << i)
    }

    pub fn with(self, column: &str) -> Self {
        Self(self.0 | Self::bit(column))
    }

    pub fn has(self, column: &str) -> bool {
        let bit = Self::bit(column);
        bit != 0 && self.0 & bit == bit
    }
}

/// One server an import file names: the record as the file says it, and which columns it
/// said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub line: usize,
    pub record: ServerRecord,
    pub given: Given,
}

impl ServerRecord {
    /// This record where `given` names a column, `stored` everywhere else.
    pub fn over(&self, stored: &ServerRecord, given: Given) -> ServerRecord {
        let ours = self.to_draft();
        let mut merged = stored.to_draft();
        for column in csv::COLUMNS {
            if given.has(column)
                && let (Some(slot), Some(value)) = (merged.field_mut(column), ours.field(column))
            {
                *slot = value.to_owned();
            }
        }
        // Both halves are valid records, so the merge is too; fall back to ours if not.
        merged.validate().unwrap_or_else(|_| self.clone())
    }

    /// The columns whose values differ between `self` and `other`.
    pub fn changed_columns(&self, other: &ServerRecord) -> Vec<&'static str> {
        let (a, b) = (self.to_draft(), other.to_draft());
        csv::COLUMNS
            .into_iter()
            .filter(|c| a.field(c) != b.field(c))
            .collect()
    }
}

/// A bad row of an import file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    /// 1-based line in the file.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Checks that go across rows: server names unique, and a site keeps one tier.
pub(crate) fn cross_check(rows: &[ImportRow], problems: &mut Vec<RowProblem>) {
    use std::collections::HashMap;
    let mut servers: HashMap<String, (usize, &str)> = HashMap::new();
    let mut tiers: HashMap<(&str, &str, &str), (Tier, usize)> = HashMap::new();
    for ImportRow {
        line,
        record: r,
        given,
    } in rows
    {
        if let Some((first, spelled)) =
            servers.insert(r.server.to_ascii_lowercase(), (*line, &r.server))
        {
            problems.push(RowProblem {
                line: *line,
                message: if spelled == r.server {
                    format!("server `{}` is already on line {first}", r.server)
                } else {
                    format!(
                        "server `{}` differs only in case from `{spelled}` on line {first}",
                        r.server
                    )
                },
            });
        }
        if !given.has("tier") {
            continue;
        }
        let key = (r.institution.as_str(), r.system.as_str(), r.site.as_str());
        match tiers.get(&key) {
            Some((tier, first)) if *tier != r.tier => problems.push(RowProblem {
                line: *line,
                message: format!(
                    "site `{}` is tier {} here but tier {} on line {first}",
                    r.site,
                    r.tier.number(),
                    tier.number()
                ),
            }),
            Some(_) => {}
            None => {
                tiers.insert(key, (r.tier, *line));
            }
        }
    }
    problems.sort_by_key(|p| p.line);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ServerDraft {
        ServerDraft {
            institution: "Seoul City".into(),
            system: "hr-portal".into(),
            site: "gangnam".into(),
            tier: "1".into(),
            server: "hr-web-01".into(),
            address: "10.1.2.3".into(),
            user: "deploy".into(),
            ..ServerDraft::default()
        }
    }

    #[test]
    fn defaults_are_port_22_key_auth_standard_tier() {
        let r = ServerDraft {
            tier: String::new(),
            ..draft()
        }
        .validate()
        .unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(
            (r.port, r.auth, r.tier),
            (22, AuthKind::Key, Tier::Standard)
        );
        assert_eq!(r.to_draft().validate(), Ok(r));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = ServerDraft {
            tier: "4".into(),
            port: "70000".into(),
            auth: "kerberos".into(),
            app_path: "relative/path".into(),
            health_http_url: "ftp://x".into(),
            server: "web 01".into(),
            ..draft()
        };
        let fields: Vec<&str> = bad
            .validate()
            .unwrap_err()
            .iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            fields,
            vec![
                "tier",
                "server",
                "port",
                "auth",
                "app_path",
                "health_http_url"
            ]
        );
    }
}
