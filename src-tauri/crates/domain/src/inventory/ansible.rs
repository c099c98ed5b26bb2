//! Import of Ansible INI inventories — what operators already have (docs/inventory.md).
//!
//! Mapping: each host becomes a server named by its inventory alias; its **site** is the
//! first group it appears under; every group it belongs to (directly or through
//! `:children`) becomes a tag. `ansible_host`, `ansible_port`, `ansible_user` (and their
//! `ansible_ssh_*` spellings) fill address, port and user. Variables named `guardia_<column>`
//! fill the inventory column of that name (`guardia_tier=1`, `guardia_system=hr-portal`,
//! `guardia_credential=hr-key`, `guardia_health_http_url=…`). Variables apply from
//! `[all:vars]`, then parent groups, then the host's own groups, then the host line.
//!
//! Passwords in the file (`ansible_password`, `ansible_ssh_pass`, `ansible_become_pass`) are
//! **not** imported: secrets belong in the OS keyring. They make the server a password
//! server and produce a warning. Host ranges such as `web[01:20]` are expanded.

use std::collections::{BTreeMap, HashMap};

use super::{RowProblem, ServerDraft, ServerRecord, cross_check};

/// What the file does not say.
#[derive(Debug, Clone, Default)]
pub struct AnsibleOptions {
    pub institution: String,
    /// Used when no `guardia_system` variable applies.
    pub system: String,
    /// Used when no `ansible_user` applies.
    pub default_user: String,
}

/// A successful import: the servers, and what was ignored on the way.
#[derive(Debug, Clone)]
pub struct AnsibleImport {
    pub records: Vec<ServerRecord>,
    pub warnings: Vec<RowProblem>,
}

#[derive(Debug, Default)]
struct Group {
    vars: Vec<(String, String, usize)>,
    children: Vec<(String, usize)>,
    hosts: Vec<String>,
}

#[derive(Debug)]
struct Host {
    line: usize,
    first_group: String,
    vars: Vec<(String, String)>,
}

const SECRET_VARS: [&str; 5] = [
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_ssh_password",
    "ansible_become_pass",
    "ansible_become_password",
];

/// Splits `a=1 b="two words" c='x'` into pairs; `None` if a word has no `=`.
fn split_vars(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() || chars.peek() == Some(&'#') {
            return Some(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.next() != Some('=') || key.is_empty() {
            return None;
        }
        let mut value = String::new();
        match chars.peek().copied() {
            Some(q @ ('"' | '\'')) => {
                chars.next();
                for c in chars.by_ref() {
                    if c == q {
                        break;
                    }
                    value.push(c);
                }
            }
            _ => {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.push((key, value));
    }
}

/// `web[01:03].x` → `web01.x web02.x web03.x`; names without a range stay as they are.
fn expand(pattern: &str) -> Result<Vec<String>, String> {
    let (Some(open), Some(close)) = (pattern.find('['), pattern.find(']')) else {
        return Ok(vec![pattern.to_owned()]);
    };
    let (prefix, range, suffix) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let (from, to) = range
        .split_once(':')
        .ok_or_else(|| format!("`{pattern}`: a host range is written [FROM:TO]"))?;
    let width = if from.starts_with('0') { from.len() } else { 0 };
    let (a, b): (u32, u32) = match (from.parse(), to.parse()) {
        (Ok(a), Ok(b)) if a <= b && b - a < 10_000 => (a, b),
        _ => {
            return Err(format!(
                "`{pattern}`: only numeric ranges FROM ≤ TO are supported"
            ));
        }
    };
    let mut out = Vec::new();
    for n in a..=b {
        for rest in expand(suffix)? {
            out.push(format!("{prefix}{n:0width$}{rest}"));
        }
    }
    Ok(out)
}

/// Reads an INI inventory. All-or-nothing, like the CSV import.
pub fn parse(text: &str, options: &AnsibleOptions) -> Result<AnsibleImport, Vec<RowProblem>> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut group_order: Vec<String> = Vec::new();
    let mut hosts: BTreeMap<String, Host> = BTreeMap::new();
    let mut host_order: Vec<String> = Vec::new();

    #[derive(Clone, Copy, PartialEq)]
    enum Section {
        Hosts,
        Vars,
        Children,
    }
    let mut current = ("ungrouped".to_owned(), Section::Hosts);

    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some(inner) = t.strip_prefix('[') {
            let Some(inner) = inner.strip_suffix(']') else {
                problems.push(RowProblem {
                    line,
                    message: format!("`{t}`: a section header ends with `]`"),
                });
                continue;
            };
            let (name, kind) = match inner.split_once(':') {
                None => (inner, Section::Hosts),
                Some((n, "vars")) => (n, Section::Vars),
                Some((n, "children")) => (n, Section::Children),
                Some((_, other)) => {
                    problems.push(RowProblem {
                        line,
                        message: format!(
                            "unknown section kind `:{other}` (expected :vars or :children)"
                        ),
                    });
                    continue;
                }
            };
            if !groups.contains_key(name) {
                group_order.push(name.to_owned());
            }
            groups.entry(name.to_owned()).or_default();
            current = (name.to_owned(), kind);
            continue;
        }
        let group = current.0.clone();
        match current.1 {
            Section::Hosts => {
                let (pattern, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
                let Some(vars) = split_vars(rest) else {
                    problems.push(RowProblem {
                        line,
                        message: format!("`{}`: host variables are written key=value", rest.trim()),
                    });
                    continue;
                };
                let names = match expand(pattern) {
                    Ok(n) => n,
                    Err(message) => {
                        problems.push(RowProblem { line, message });
                        continue;
                    }
                };
                if !groups.contains_key(&group) {
                    group_order.push(group.clone());
                }
                let g = groups.entry(group.clone()).or_default();
                for name in names {
                    g.hosts.push(name.clone());
                    let host = hosts.entry(name.clone()).or_insert_with(|| {
                        host_order.push(name.clone());
                        Host {
                            line,
                            first_group: group.clone(),
                            vars: Vec::new(),
                        }
                    });
                    host.vars.extend(vars.iter().cloned());
                }
            }
            Section::Vars => match split_vars(t) {
                Some(pairs) if pairs.len() == 1 => {
                    let (k, v) = pairs.into_iter().next().unwrap_or_default();
                    if let Some(g) = groups.get_mut(&group) {
                        g.vars.push((k, v, line));
                    }
                }
                _ => problems.push(RowProblem {
                    line,
                    message: format!("`{t}`: a group variable is written key=value, one per line"),
                }),
            },
            Section::Children => {
                if let Some(g) = groups.get_mut(&group) {
                    g.children.push((t.to_owned(), line));
                }
            }
        }
    }

    // Parents of every group, and undefined children.
    let mut parents: HashMap<String, Vec<String>> = HashMap::new();
    for (name, g) in &groups {
        for (child, line) in &g.children {
            if !groups.contains_key(child) {
                problems.push(RowProblem {
                    line: *line,
                    message: format!("group `{name}` lists child `{child}`, which is not defined"),
                });
            }
            parents.entry(child.clone()).or_default().push(name.clone());
        }
    }
    // All groups a host belongs to, most general first.
    let ancestry = |direct: &[String]| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut stack: Vec<String> = direct.to_vec();
        let mut depth_first: Vec<String> = Vec::new();
        while let Some(g) = stack.pop() {
            if depth_first.contains(&g) || depth_first.len() > 1000 {
                continue;
            }
            depth_first.push(g.clone());
            stack.extend(parents.get(&g).cloned().unwrap_or_default());
        }
        // Parents before children: reverse discovery order, then the direct groups last.
        for g in depth_first.iter().rev() {
            if !direct.contains(g) && !out.contains(g) {
                out.push(g.clone());
            }
        }
        for g in direct {
            if !out.contains(g) {
                out.push(g.clone());
            }
        }
        out
    };

    let mut rows = Vec::new();
    for name in &host_order {
        let Some(host) = hosts.get(name) else {
            continue;
        };
        let direct: Vec<String> = group_order
            .iter()
            .filter(|g| groups.get(*g).is_some_and(|gr| gr.hosts.contains(name)))
            .cloned()
            .collect();
        let all_groups = ancestry(&direct);
        let mut vars: Vec<(String, String)> = Vec::new();
        if let Some(all) = groups.get("all") {
            vars.extend(all.vars.iter().map(|(k, v, _)| (k.clone(), v.clone())));
        }
        for g in &all_groups {
            if let Some(gr) = groups.get(g) {
                vars.extend(gr.vars.iter().map(|(k, v, _)| (k.clone(), v.clone())));
            }
        }
        vars.extend(host.vars.iter().cloned());

        let mut draft = ServerDraft {
            institution: options.institution.clone(),
            system: options.system.clone(),
            site: host.first_group.clone(),
            server: name.clone(),
            address: name.clone(),
            user: options.default_user.clone(),
            tags: all_groups
                .iter()
                .filter(|g| *g != "ungrouped" && *g != "all")
                .cloned()
                .collect::<Vec<_>>()
                .join(";"),
            ..ServerDraft::default()
        };
        let mut ignored = Vec::new();
        for (k, v) in vars {
            match k.as_str() {
                "ansible_host" | "ansible_ssh_host" => draft.address = v,
                "ansible_port" | "ansible_ssh_port" => draft.port = v,
                "ansible_user" | "ansible_ssh_user" => draft.user = v,
                "ansible_ssh_private_key_file" | "ansible_private_key_file" => {
                    draft.auth = "key".into();
                }
                s if SECRET_VARS.contains(&s) => {
                    draft.auth = "password".into();
                    warnings.push(RowProblem {
                        line: host.line,
                        message: format!(
                            "{name}: `{s}` not imported — store the password as a credential in the OS keyring"
                        ),
                    });
                }
                s => match s
                    .strip_prefix("guardia_")
                    // Name, address, port, user and tags come from Ansible's own variables.
                    .filter(|col| !matches!(*col, "server" | "address" | "port" | "user" | "tags"))
                    .and_then(|col| draft.field_mut(col))
                {
                    Some(slot) => *slot = v,
                    None => ignored.push(k),
                },
            }
        }
        if !ignored.is_empty() {
            ignored.sort();
            ignored.dedup();
            warnings.push(RowProblem {
                line: host.line,
                message: format!("{name}: ignored variables {}", ignored.join(", ")),
            });
        }
        match draft.validate() {
            Ok(r) => rows.push((host.line, r)),
            Err(fields) => problems.push(RowProblem {
                line: host.line,
                message: format!(
                    "{name}: {}",
                    fields
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            }),
        }
    }
    cross_check(&rows, &mut problems);
    if rows.is_empty() && problems.is_empty() {
        problems.push(RowProblem {
            line: 1,
            message: "the inventory lists no hosts".into(),
        });
    }
    if problems.is_empty() {
        Ok(AnsibleImport {
            records: rows.into_iter().map(|(_, r)| r).collect(),
            warnings,
        })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{AuthKind, Tier};

    fn options() -> AnsibleOptions {
        AnsibleOptions {
            institution: "Seoul City".into(),
            system: "hr-portal".into(),
            default_user: "ops".into(),
        }
    }

    const INVENTORY: &str = "\
# legacy fleet
bastion ansible_host=10.0.0.1

[web]
web[01:03] ansible_user=deploy
web-special ansible_host=10.0.9.9 ansible_port=2222 ansible_password=hunter2

[db]
db1 ansible_host=10.0.1.1 ansible_ssh_private_key_file=~/.ssh/db

[web:vars]
guardia_tier=1
guardia_health_http_url=http://localhost:8080/health
guardia_credential=web-key
http_port=8080

[seoul:children]
web
db

[all:vars]
ansible_port=22
";

    #[test]
    fn hosts_groups_children_and_vars_become_servers() {
        let import = parse(INVENTORY, &options()).unwrap_or_else(|p| panic!("{p:#?}"));
        let by_name: HashMap<&str, &ServerRecord> = import
            .records
            .iter()
            .map(|r| (r.server.as_str(), r))
            .collect();
        assert_eq!(import.records.len(), 6);
        let bastion = by_name["bastion"];
        assert_eq!(
            (bastion.site.as_str(), bastion.user.as_str()),
            ("ungrouped", "ops")
        );
        let web02 = by_name["web02"];
        assert_eq!(web02.address, "web02");
        assert_eq!(web02.user, "deploy");
        assert_eq!(web02.site, "web");
        assert_eq!(web02.credential.as_deref(), Some("web-key"));
        assert_eq!(
            web02.health.http_url.as_deref(),
            Some("http://localhost:8080/health")
        );
        assert_eq!(web02.tags, vec!["seoul", "web"]);
        assert_eq!(web02.tier, Tier::Critical);
        let special = by_name["web-special"];
        assert_eq!(
            (special.port, special.tier, special.auth),
            (2222, Tier::Critical, AuthKind::Password)
        );
        assert_eq!(by_name["db1"].auth, AuthKind::Key);
        // The password is not carried, only flagged.
        assert!(
            import
                .warnings
                .iter()
                .any(|w| w.message.contains("ansible_password") && !w.message.contains("hunter2"))
        );
        assert!(
            import
                .warnings
                .iter()
                .any(|w| w.message.contains("http_port"))
        );
        assert!(!format!("{:?}", import.records).contains("hunter2"));
    }

    #[test]
    fn bad_lines_are_all_reported_with_their_numbers() {
        let text = "[web\nh1 ansible_port\n[x:weird]\n[web2]\nbad name!\n[g:children]\nnope\n[v:vars]\nnot a var\n";
        let problems = parse(text, &options()).unwrap_err();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![1, 2, 3, 5, 7, 9], "{problems:#?}");
    }

    #[test]
    fn host_ranges_keep_zero_padding() {
        assert_eq!(
            expand("a[08:10].x").unwrap_or_default(),
            vec!["a08.x", "a09.x", "a10.x"]
        );
        assert_eq!(expand("b[1:2]").unwrap_or_default(), vec!["b1", "b2"]);
        assert!(expand("c[5:1]").is_err());
    }
}
