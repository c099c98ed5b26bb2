//! Import of Ansible INI inventories — what operators already have (docs/inventory.md).
//!
//! Mapping: each host becomes a server named by its inventory alias, and **its own site**
//! (a rollout treats sites one at a time) unless `guardia_site` groups several hosts into one;
//! every group it belongs to (directly or through `:children`) becomes a tag. `ansible_host`,
//! `ansible_port`, `ansible_user` (and their `ansible_ssh_*` spellings) fill address, port
//! and user. Variables named `guardia_<column>` fill the inventory column of that name
//! (`guardia_tier=1`, `guardia_system=hr-portal`, `guardia_credential=hr-key`,
//! `guardia_health_http_url=…`), and so does any variable the import maps to a column
//! (`--map app_dir=app_path`). Variables apply from `[all:vars]`, then parent groups, then
//! the host's own groups, then the host line. `--credential NAME` gives every host without a
//! `guardia_credential` that credential (and its kind as the login method).
//!
//! Passwords in the file (`ansible_password`, `ansible_ssh_pass`, `ansible_become_pass`) are
//! **not** imported: secrets belong in the OS keyring. They make the server a password
//! server and produce a warning. Host ranges such as `web[01:20]` are expanded.

use std::collections::{BTreeMap, HashMap};

use super::{Given, ImportRow, MAX_FILE_BYTES, MAX_SERVERS, RowProblem, ServerDraft, cross_check};
use crate::text::excerpt;

/// What the file does not say.
#[derive(Debug, Clone, Default)]
pub struct AnsibleOptions {
    pub institution: String,
    /// Used when no `guardia_system` variable applies.
    pub system: String,
    /// Used when no `ansible_user` applies.
    pub default_user: String,
    /// At most this many hosts per file, ranges included (never more than [`MAX_SERVERS`],
    /// which is what imports use; the fuzz target uses fewer to keep each run fast).
    pub max_hosts: usize,
    /// The credential of hosts no `guardia_credential` names, with its kind (`key` or
    /// `password`) as their login method; empty for none.
    pub credential: String,
    pub credential_auth: String,
    /// Host variables to read as inventory columns: (variable, column), e.g.
    /// (`app_dir`, `app_path`).
    pub map: Vec<(String, String)>,
}

/// The columns a `--map` may fill (what the file names itself is not remapped).
pub fn mappable(column: &str) -> bool {
    !matches!(column, "server" | "address" | "port" | "user" | "tags")
        && ServerDraft::default().field_mut(column).is_some()
}

/// A successful import: the servers, and what was ignored on the way.
#[derive(Debug, Clone)]
pub struct AnsibleImport {
    pub rows: Vec<ImportRow>,
    pub warnings: Vec<RowProblem>,
}

#[derive(Debug, Default)]
struct Group {
    vars: Vec<(String, String, usize)>,
    children: Vec<(String, usize)>,
}

#[derive(Debug)]
struct Host {
    line: usize,
    vars: Vec<(String, String)>,
}

const SECRET_VARS: [&str; 9] = [
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_ssh_password",
    "ansible_become_pass",
    "ansible_become_password",
    "ansible_sudo_pass",
    "ansible_sudo_password",
    "ansible_su_pass",
    "ansible_ssh_private_key_passphrase",
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

/// One `[FROM:TO]` of a host pattern: its numbers and zero-padding width.
struct Range {
    from: u32,
    to: u32,
    width: usize,
}

/// `web[01:03].x` → `web01.x web02.x web03.x`; names without a range stay as they are.
/// The number of names is computed before any is made and must fit `budget` (what is
/// left of the file's `limit`), so a 33-byte pattern cannot ask for 10¹² hosts.
fn expand(pattern: &str, budget: &mut usize, limit: usize) -> Result<Vec<String>, String> {
    // Split into literal parts and ranges: lit0 [r0] lit1 [r1] … litN.
    let mut literals = Vec::new();
    let mut ranges = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|c| open + c) else {
            return Err(format!(
                "`{}`: a host range `[` is not closed by `]`",
                excerpt(pattern, 64)
            ));
        };
        literals.push(&rest[..open]);
        let inner = &rest[open + 1..close];
        let bad = || {
            format!(
                "`{}`: a host range is written [FROM:TO] with numbers FROM ≤ TO",
                excerpt(pattern, 64)
            )
        };
        let (from, to) = inner.split_once(':').ok_or_else(bad)?;
        let (a, b): (u32, u32) = match (from.parse(), to.parse()) {
            (Ok(a), Ok(b)) if a <= b => (a, b),
            _ => return Err(bad()),
        };
        let width = if from.starts_with('0') { from.len() } else { 0 };
        ranges.push(Range {
            from: a,
            to: b,
            width,
        });
        rest = &rest[close + 1..];
    }
    literals.push(rest);
    let count = ranges.iter().try_fold(1usize, |n, r| {
        n.checked_mul(usize::try_from(r.to - r.from).ok()?.checked_add(1)?)
    });
    match count {
        Some(n) if n <= *budget => *budget -= n,
        _ => {
            return Err(format!(
                "`{}` names more hosts than one file may ({limit} in all)",
                excerpt(pattern, 64)
            ));
        }
    }
    let mut names = vec![literals[0].to_owned()];
    for (range, literal) in ranges.iter().zip(&literals[1..]) {
        let mut next = Vec::with_capacity(names.len() * (range.to - range.from + 1) as usize);
        for name in &names {
            for n in range.from..=range.to {
                next.push(format!("{name}{n:0w$}{literal}", w = range.width));
            }
        }
        names = next;
    }
    Ok(names)
}

/// Whether a variable holds a secret: the known password variables, and anything whose
/// name says so. Its value is never imported nor quoted.
pub fn is_secret_var(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_VARS.contains(&k.as_str())
        || ["pass", "secret", "token", "private_key_content"]
            .iter()
            .any(|w| k.contains(w))
            && !k.ends_with("_file")
}

/// The variable name a malformed line seems to set, for a refusal that must not quote the
/// rest (it may be a password).
fn key_of(text: &str) -> String {
    let key: String = text
        .trim()
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '=')
        .collect();
    excerpt(&key, 64)
}

/// Reads an INI inventory. All-or-nothing, like the CSV import.
pub fn parse(text: &str, options: &AnsibleOptions) -> Result<AnsibleImport, Vec<RowProblem>> {
    if text.len() > MAX_FILE_BYTES {
        return Err(vec![RowProblem {
            line: 1,
            message: format!(
                "the file is {} bytes; an inventory file may be at most {MAX_FILE_BYTES}",
                text.len()
            ),
        }]);
    }
    let limit = options.max_hosts.min(MAX_SERVERS);
    let mut budget = limit;
    // Each host's groups in file order, kept as hosts are read (linear, not a scan per host).
    let mut direct_groups: HashMap<String, Vec<String>> = HashMap::new();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut hosts: BTreeMap<String, Host> = BTreeMap::new();
    let mut host_order: Vec<String> = Vec::new();

    #[derive(Clone, Copy, PartialEq)]
    enum Section {
        Hosts,
        Vars,
        Children,
        /// After a header of an unknown kind: its lines are skipped.
        Unknown,
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
                    // Name only what comes before any `=`: the rest may be a password.
                    message: format!("`{}`: a section header ends with `]`", key_of(t)),
                });
                continue;
            };
            if inner.contains('=') {
                // A variable run into a header: name it, never its value.
                problems.push(RowProblem {
                    line,
                    message: format!(
                        "`{}`: a section header holds no `=` (variables go on their own line)",
                        key_of(t)
                    ),
                });
                current = (String::new(), Section::Unknown);
                continue;
            }
            let (name, kind) = match inner.split_once(':') {
                None => (inner, Section::Hosts),
                Some((n, "vars")) => (n, Section::Vars),
                Some((n, "children")) => (n, Section::Children),
                Some((n, other)) => {
                    problems.push(RowProblem {
                        line,
                        message: format!(
                            "unknown section kind `:{}` (expected :vars or :children)",
                            excerpt(other, 32)
                        ),
                    });
                    // Its lines belong to no group (and may be variables: never quoted).
                    current = (n.to_owned(), Section::Unknown);
                    continue;
                }
            };
            groups.entry(name.to_owned()).or_default();
            current = (name.to_owned(), kind);
            continue;
        }
        let group = current.0.clone();
        match current.1 {
            Section::Unknown => {}
            Section::Hosts => {
                let (pattern, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
                if pattern.contains('=') {
                    // A variable where a host belongs: name it, never its value (a password?).
                    problems.push(RowProblem {
                        line,
                        message: format!(
                            "`{}` is a variable, not a host: group variables go under [{}:vars]",
                            key_of(t),
                            excerpt(&group, 64)
                        ),
                    });
                    continue;
                }
                let Some(vars) = split_vars(rest) else {
                    problems.push(RowProblem {
                        line,
                        message: format!(
                            "host `{}`: host variables are written key=value (near `{}`)",
                            excerpt(pattern, 64),
                            key_of(rest)
                        ),
                    });
                    continue;
                };
                let names = match expand(pattern, &mut budget, limit) {
                    Ok(n) => n,
                    Err(message) => {
                        problems.push(RowProblem { line, message });
                        continue;
                    }
                };
                groups.entry(group.clone()).or_default();
                for name in names {
                    let mine = direct_groups.entry(name.clone()).or_default();
                    if !mine.contains(&group) {
                        mine.push(group.clone());
                    }
                    let host = hosts.entry(name.clone()).or_insert_with(|| {
                        host_order.push(name.clone());
                        Host {
                            line,
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
                    message: format!(
                        "a group variable is written key=value, one per line (near `{}`)",
                        key_of(t)
                    ),
                }),
            },
            Section::Children if t.contains('=') => problems.push(RowProblem {
                line,
                message: format!(
                    "`{}` is a variable, not a child group: group variables go under [{}:vars]",
                    key_of(t),
                    excerpt(&group, 64)
                ),
            }),
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
                    message: format!(
                        "group `{}` lists child `{}`, which is not defined",
                        excerpt(name, 64),
                        excerpt(child, 64)
                    ),
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
        let direct: Vec<String> = direct_groups.get(name).cloned().unwrap_or_default();
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
            // Its own site: one host, one step of a rollout (guardia_site groups them).
            site: name.clone(),
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
        // What an Ansible file always says; the rest only when a variable says it.
        let mut given = [
            "institution",
            "system",
            "site",
            "server",
            "address",
            "user",
            "tags",
        ]
        .into_iter()
        .fold(Given::default(), Given::with);
        let mut ignored = Vec::new();
        for (k, v) in vars {
            // A secret is never mapped into a column (it would be stored in clear).
            let mapped = options
                .map
                .iter()
                .find(|(var, _)| *var == k && !is_secret_var(var))
                .map(|(_, column)| format!("guardia_{column}"));
            let k = mapped.unwrap_or(k);
            match k.as_str() {
                "ansible_host" | "ansible_ssh_host" => draft.address = v,
                "ansible_port" | "ansible_ssh_port" => {
                    draft.port = v;
                    given = given.with("port");
                }
                "ansible_user" | "ansible_ssh_user" => draft.user = v,
                "ansible_ssh_private_key_file" | "ansible_private_key_file" => {
                    draft.auth = "key".into();
                    given = given.with("auth");
                }
                s if is_secret_var(s) => {
                    draft.auth = "password".into();
                    given = given.with("auth");
                    warnings.push(RowProblem {
                        line: host.line,
                        message: format!(
                            "{name}: `{}` not imported — store the password as a credential in the OS keyring",
                            excerpt(s, 64)
                        ),
                    });
                }
                s => match s
                    .strip_prefix("guardia_")
                    // Name, address, port, user and tags come from Ansible's own variables.
                    .filter(|col| !matches!(*col, "server" | "address" | "port" | "user" | "tags"))
                    .and_then(|col| Some(col).zip(draft.field_mut(col)))
                {
                    Some((col, slot)) => {
                        *slot = v;
                        given = given.with(col);
                    }
                    None => ignored.push(excerpt(&k, 64)),
                },
            }
        }
        if !given.has("credential") && !options.credential.is_empty() {
            draft.credential = options.credential.clone();
            given = given.with("credential");
            if !options.credential_auth.is_empty() {
                draft.auth = options.credential_auth.clone();
                given = given.with("auth");
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
            Ok(record) => rows.push(ImportRow {
                line: host.line,
                record,
                given,
            }),
            Err(fields) => problems.push(RowProblem {
                line: host.line,
                message: format!(
                    "{name}: {}",
                    fields
                        .iter()
                        .map(|f| match f.field {
                            // What a plain Ansible file never says: name the way to say it.
                            "institution" | "system" if f.message == "is required" => format!(
                                "{f} — pass --{col} NAME (or set guardia_{col} in the file)",
                                col = f.field
                            ),
                            _ => f.to_string(),
                        })
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
        Ok(AnsibleImport { rows, warnings })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{AuthKind, ServerRecord, Tier};

    fn options() -> AnsibleOptions {
        AnsibleOptions {
            institution: "Seoul City".into(),
            system: "hr-portal".into(),
            default_user: "ops".into(),
            max_hosts: MAX_SERVERS,
            ..AnsibleOptions::default()
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
            .rows
            .iter()
            .map(|r| (r.record.server.as_str(), &r.record))
            .collect();
        assert_eq!(import.rows.len(), 6);
        let bastion = by_name["bastion"];
        assert_eq!(
            (bastion.site.as_str(), bastion.user.as_str()),
            ("bastion", "ops")
        );
        let web02 = by_name["web02"];
        assert_eq!(web02.address, "web02");
        assert_eq!(web02.user, "deploy");
        assert_eq!(web02.site, "web02", "each host is its own site");
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
        assert!(!format!("{:?}", import.rows).contains("hunter2"));
    }

    #[test]
    fn bad_lines_are_all_reported_with_their_numbers() {
        let text = "[web\nh1 ansible_port\n[x:weird]\n[web2]\nbad name!\n[g:children]\nnope\n[v:vars]\nnot a var\n";
        let problems = parse(text, &options()).unwrap_err();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![1, 2, 3, 5, 7, 9], "{problems:#?}");
    }

    fn expand_all(pattern: &str) -> Result<Vec<String>, String> {
        expand(pattern, &mut MAX_SERVERS.clone(), MAX_SERVERS)
    }

    #[test]
    fn host_ranges_keep_zero_padding() {
        assert_eq!(
            expand_all("a[08:10].x").unwrap_or_default(),
            vec!["a08.x", "a09.x", "a10.x"]
        );
        assert_eq!(expand_all("b[1:2]").unwrap_or_default(), vec!["b1", "b2"]);
        assert_eq!(
            expand_all("r[1:2]-[7:8]").unwrap_or_default(),
            vec!["r1-7", "r1-8", "r2-7", "r2-8"]
        );
        assert!(expand_all("c[5:1]").is_err());
    }

    #[test]
    fn hardening_05_a_range_of_a_trillion_hosts_is_refused_before_expanding() {
        let text = "[web]\nh[0:9999]-[0:9999]-[0:9999]\n";
        let problems = parse(text, &options()).unwrap_err();
        assert!(
            problems[0].message.contains("more hosts than one file may"),
            "{problems:?}"
        );
        // Ranges share one budget per file.
        let text = "[a]\nx[1:60000]\n[b]\ny[1:60000]\n";
        let problems = parse(text, &options()).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 4);
    }

    #[test]
    fn hardening_05_a_hundred_thousand_hosts_parse_in_linear_time() {
        let text = "[web]\nh[1:100000] ansible_user=ops\n";
        let import = parse(text, &options()).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(import.rows.len(), 100_000);
    }

    #[test]
    fn hardening_06_a_backwards_range_is_a_refusal_not_a_panic() {
        for text in [
            "web]0:2[\n",
            "[g]\nweb]0:2[\n",
            "[g]\nweb[0:2\n",
            "[g]\nw[:]\n",
        ] {
            assert!(parse(text, &options()).is_err(), "{text:?}");
        }
    }

    #[test]
    fn hardening_12_refusals_never_quote_a_password() {
        let text = "[web]\nw1\n[web:vars]\nansible_password = hunter2\nansible_sudo_pass = s3cret x\n[db]\nd1 ansible_become_pass hunter3\n";
        let problems = parse(text, &options()).unwrap_err();
        let all = format!("{problems:?}");
        assert_eq!(problems.len(), 3, "{all}");
        for secret in ["hunter2", "s3cret", "hunter3"] {
            assert!(!all.contains(secret), "{all}");
        }
        let ok = parse("[web]\nw1 ansible_sudo_pass=hunter4\n", &options())
            .unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(ok.rows[0].record.auth, AuthKind::Password);
        assert!(!format!("{ok:?}").contains("hunter4"));
    }

    /// Found by the `ansible_ini` fuzz target: after a section header of an unknown kind, a
    /// password line was read as a host of the previous group and quoted in the refusal.
    #[test]
    fn hardening_12_a_variable_where_a_host_or_child_belongs_is_not_quoted() {
        for (text, named) in [
            // The unknown header refuses the file; the lines under it are skipped.
            ("[web]\nw1\n[web:vh9s]\nansible_password=hunter5\n", false),
            ("[web]\nansible_password=hunter5\n", true),
            ("[all:children]\nansible_password=hunter5\n", true),
            ("[webzvarsh3]ansible_password=hunter5\n", true),
            ("[web:vars]password=hunter5 x]\n", false),
        ] {
            let problems = parse(text, &options()).unwrap_err();
            let all = format!("{problems:?}");
            assert!(!all.contains("hunter5"), "{all}");
            assert_eq!(all.contains("ansible_password"), named, "{all}");
        }
    }

    /// Issue 10: a plain `hosts.ini` as operators have it — one group, custom host
    /// variables, no guardia_ variables.
    const PLAIN: &str = "\
[was]
was[01:20] ansible_host=10.1.0.1 app_dir=/srv/app java_home=/opt/jdk
";

    #[test]
    fn a_plain_group_becomes_one_site_per_host_tagged_with_the_group_and_mapped_vars() {
        let options = AnsibleOptions {
            credential: "was-key".into(),
            credential_auth: "key".into(),
            map: vec![("app_dir".into(), "app_path".into())],
            ..options()
        };
        let import = parse(PLAIN, &options).unwrap_or_else(|p| panic!("{p:#?}"));
        assert_eq!(import.rows.len(), 20);
        let sites: std::collections::BTreeSet<&str> =
            import.rows.iter().map(|r| r.record.site.as_str()).collect();
        assert_eq!(sites.len(), 20, "one site per host");
        let was07 = &import.rows[6].record;
        assert_eq!(was07.server, "was07");
        assert_eq!(was07.tags, vec!["was"]);
        assert_eq!(was07.credential.as_deref(), Some("was-key"));
        assert_eq!(was07.auth, AuthKind::Key);
        assert_eq!(was07.app_path.as_deref(), Some("/srv/app"));
        // What was not mapped is reported, not silently dropped.
        assert!(
            import
                .warnings
                .iter()
                .any(|w| w.message.contains("java_home") && !w.message.contains("app_dir"))
        );
        // A password variable is never mapped into a column.
        let sneaky = AnsibleOptions {
            map: vec![("ansible_password".into(), "app_path".into())],
            ..options.clone()
        };
        let import = parse("[was]\nw1 ansible_password=hunter9\n", &sneaky)
            .unwrap_or_else(|p| panic!("{p:#?}"));
        assert_eq!(import.rows[0].record.app_path, None);
        assert!(!format!("{import:?}").contains("hunter9"));
        // guardia_site still groups hosts, and a file's own credential wins.
        let text =
            "[was]\nw1 guardia_site=seoul-1\nw2 guardia_site=seoul-1 guardia_credential=own\n";
        let import = parse(text, &options).unwrap_or_else(|p| panic!("{p:#?}"));
        assert!(import.rows.iter().all(|r| r.record.site == "seoul-1"));
        assert_eq!(import.rows[1].record.credential.as_deref(), Some("own"));
    }

    #[test]
    fn a_file_that_names_no_institution_or_system_is_refused_naming_the_flags() {
        let bare = AnsibleOptions {
            max_hosts: MAX_SERVERS,
            default_user: "ops".into(),
            ..AnsibleOptions::default()
        };
        let problems = parse(PLAIN, &bare).unwrap_err();
        assert_eq!(problems.len(), 20);
        let first = &problems[0].message;
        assert!(
            first.contains("--institution NAME") && first.contains("--system NAME"),
            "{first}"
        );
    }
}
