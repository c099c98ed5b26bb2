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
            format!("`{v}` may hold only letters, digits, '.', '_' and '-' (at most 64)"),
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
                format!("`{v}` is not a number from {min} to {max}"),
            ));
            None
        }
    }
}

fn absolute_path(field: &'static str, raw: &str, out: &mut Vec<FieldProblem>) -> Option<String> {
    let v = optional(raw)?;
    if !v.starts_with('/') {
        out.push(problem(field, format!("`{v}` must be an absolute path")));
    } else if v.split('/').any(|part| part == "..") {
        out.push(problem(field, format!("`{v}` must not contain `..`")));
    } else if v.chars().any(char::is_control) {
        out.push(problem(field, "holds a control character"));
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
            format!("`{v}` is not a host name or IP address"),
        ));
    }
    v.to_owned()
}

impl ServerDraft {
    /// The field of the CSV column `column` (docs/inventory.md), for importers and forms that
    /// address fields by name.
    pub fn field_mut(&mut self, column: &str) -> Option<&mut String> {
        Some(match column {
            "institution" => &mut self.institution,
            "system" => &mut self.system,
            "site" => &mut self.site,
            "tier" => &mut self.tier,
            "server" => &mut self.server,
            "address" => &mut self.address,
            "port" => &mut self.port,
            "user" => &mut self.user,
            "auth" => &mut self.auth,
            "credential" => &mut self.credential,
            "os" => &mut self.os,
            "app_path" => &mut self.app_path,
            "deploy_path" => &mut self.deploy_path,
            "service_port" => &mut self.service_port,
            "health_tcp_port" => &mut self.health_tcp_port,
            "health_http_url" => &mut self.health_http_url,
            "health_http_status" => &mut self.health_http_status,
            "health_http_max_ms" => &mut self.health_http_max_ms,
            "health_process" => &mut self.health_process,
            "health_log_file" => &mut self.health_log_file,
            "health_log_error_pattern" => &mut self.health_log_error_pattern,
            "tags" => &mut self.tags,
            _ => return None,
        })
    }

    /// The record, or every problem with the draft.
    pub fn validate(&self) -> Result<ServerRecord, Vec<FieldProblem>> {
        let mut p = Vec::new();
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
        let mut tags: Vec<String> = self
            .tags
            .split([';', ','])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
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
pub(crate) fn cross_check(rows: &[(usize, ServerRecord)], problems: &mut Vec<RowProblem>) {
    use std::collections::HashMap;
    let mut servers: HashMap<&str, usize> = HashMap::new();
    let mut tiers: HashMap<(&str, &str, &str), (Tier, usize)> = HashMap::new();
    for (line, r) in rows {
        if let Some(first) = servers.insert(&r.server, *line) {
            problems.push(RowProblem {
                line: *line,
                message: format!("server `{}` is already on line {first}", r.server),
            });
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
