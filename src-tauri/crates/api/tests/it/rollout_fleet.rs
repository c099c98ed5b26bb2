//! The rollout tests' fleet (shared with `benches/rollout.rs`): a lab, an API with people,
//! the lab's inventory and pins, and a task whose result — the example package, optionally
//! with a large artifact — is approved: READY_TO_ROLL_OUT.

use std::path::Path;
use std::sync::Arc;

use guardia_api::{Api, Caller, SystemClock};
use guardia_domain::governance::{Role, RoleGrant, Verdict};
use guardia_domain::{Category, PersonName, TaskStatus};
use guardia_ipc::{
    CredentialInput, CredentialKindView, DiffView, InventoryFile, InventoryFormat, PackageImport,
    PersonInput, ReviewDecisionInput, RulesChange, SystemRulesChange, TaskDecision, TaskDraft,
    TaskRef,
};
use guardia_lab::{LabSpec, Manifest};
use guardia_package::corpus::{self, Files};
use guardia_secrets::{OsKeyring, SecretStore};

use crate::support::{api_with, who};

/// How a fleet is made beyond its size.
pub struct FleetOptions {
    pub secrets: Arc<dyn SecretStore>,
    /// An extra artifact of this many bytes (`artifacts/app.war`).
    pub artifact_bytes: Option<usize>,
    /// Run the health endpoint as its own process (benchmarks: its CPU is not the console's).
    pub health_process: Option<std::path::PathBuf>,
    /// The task's sub-type (it selects the playbook); `web-fix` → deploy-artifact.
    pub sub_type: &'static str,
    /// More files for the package (path under the package, bytes).
    pub files: Vec<(String, Vec<u8>)>,
}

impl Default for FleetOptions {
    fn default() -> Self {
        Self {
            secrets: Arc::new(OsKeyring),
            artifact_bytes: None,
            health_process: None,
            sub_type: "web-fix",
            files: Vec::new(),
        }
    }
}

pub fn person(name: &str, role: Role) -> Caller {
    Caller::with_grants(
        PersonName::parse(name).unwrap(),
        vec![RoleGrant::everywhere(role)],
    )
}

pub struct Lab(pub Manifest, #[allow(dead_code)] pub tempfile::TempDir);
impl Drop for Lab {
    fn drop(&mut self) {
        let report = guardia_lab::down(&self.0.root).unwrap();
        assert!(report.survivors.is_empty());
    }
}

/// A lab, an API with people, the lab's inventory and pins, and a task whose result (the
/// example package) is approved: READY_TO_ROLL_OUT.
pub struct Fleet {
    pub api: Arc<Api>,
    pub lab: Lab,
    pub task: String,
    pub operator: Caller,
    pub security: Caller,
    pub data: tempfile::TempDir,
}

fn example(version: u32) -> Files {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures/packages/notice-fix")
        .join(format!("v{version}"));
    let mut files = corpus::read_folder(&dir).unwrap();
    files.remove("manifest.json");
    files
}

/// `pairs`: how many sites get a second server (the next lab site joins the site).
pub async fn fleet(sites: usize, bad: usize, pairs: usize) -> Fleet {
    fleet_with(sites, bad, pairs, FleetOptions::default()).await
}

pub async fn fleet_with(sites: usize, bad: usize, pairs: usize, options: FleetOptions) -> Fleet {
    let lab_dir = tempfile::tempdir().unwrap();
    let mut spec = LabSpec::new(lab_dir.path().join("lab"), sites);
    spec.bad = bad;
    if let Some(bin) = &options.health_process {
        spec.health_server = Some(vec![
            bin.display().to_string(),
            "lab".into(),
            "serve-health".into(),
            "--root".into(),
            spec.root.display().to_string(),
        ]);
    }
    let lab = Lab(guardia_lab::up(&spec).unwrap(), lab_dir);
    if options.health_process.is_none() {
        let root = lab.0.root.clone();
        tokio::spawn(async move { guardia_lab::serve_health(&root).await });
    }
    let data = tempfile::tempdir().unwrap();
    let api = api_with(data.path(), Arc::new(SystemClock), options.secrets.clone()).await;
    // The feed pump: the board (and these tests) learn of every commit from it.
    api.start_pump(&who());

    let add = |name: &str, role: Role| PersonInput {
        name: name.into(),
        display_name: String::new(),
        password: "long enough password 1".into(),
        roles: vec![RoleGrant::everywhere(role)],
    };
    api.people()
        .add_first_admin(&who(), add("admin", Role::Admin))
        .await
        .unwrap();
    for (name, role) in [
        ("kim.minji", Role::Requester),
        ("lee.teamlead", Role::TeamLead),
        ("oh.pm", Role::Pm),
        ("song.operator", Role::Operator),
        ("bae.security", Role::SecurityOfficer),
    ] {
        api.people().add(&who(), add(name, role)).await.unwrap();
    }
    let admin = person("admin", Role::Admin);
    api.approvals()
        .set_rules(
            &admin,
            SystemRulesChange {
                system: "lab-app".into(),
                change: RulesChange::Owner {
                    person: Some("lee.teamlead".into()),
                },
            },
        )
        .await
        .unwrap();
    // Credentials and inventory (pairs: site N's second server is the next lab site).
    api.credential_set(
        &admin,
        CredentialInput {
            name: "lab-key".into(),
            kind: CredentialKindView::Key,
            secret: std::fs::read_to_string(lab.0.client_key()).unwrap(),
            passphrase: None,
        },
    )
    .await
    .unwrap();
    let csv = std::fs::read_to_string(lab.0.inventory()).unwrap();
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    for p in 0..pairs {
        // Data lines start at 1; site 2p+1 joins site 2p (columns: …,system,site,…).
        let (first, second) = (1 + 2 * p, 2 + 2 * p);
        let head: Vec<String> = lines[first].split(',').map(str::to_owned).collect();
        let mut cols: Vec<String> = lines[second].split(',').map(str::to_owned).collect();
        // The same site, so the same tier.
        cols[2] = head[2].clone();
        cols[3] = head[3].clone();
        lines[second] = cols.join(",");
    }
    api.inventory_import(
        &admin,
        InventoryFile {
            format: InventoryFormat::Csv,
            text: lines.join("\n"),
            institution: String::new(),
            system: String::new(),
            default_user: String::new(),
            credential: String::new(),
            map: Vec::new(),
        },
    )
    .await
    .unwrap();
    api.host_keys_import(
        &admin,
        &std::fs::read_to_string(lab.0.known_hosts()).unwrap(),
    )
    .await
    .unwrap();

    // The task: requested, approved, worked on (the example package), reviewed.
    let kim = person("kim.minji", Role::Requester);
    let task = api
        .tasks()
        .create(
            &kim,
            TaskDraft {
                title: "Escape notice titles".into(),
                category: Some(Category::Deploy),
                sub_type: options.sub_type.into(),
                system: "lab-app".into(),
                request: "Notice titles are printed as HTML.".into(),
                requester: "kim.minji".into(),
                priority: None,
            },
        )
        .await
        .unwrap()
        .task
        .id
        .to_string();
    api.approvals()
        .submit(&kim, TaskRef { id: task.clone() })
        .await
        .unwrap();
    api.approvals()
        .decide(
            &person("lee.teamlead", Role::TeamLead),
            TaskDecision {
                id: task.clone(),
                verdict: Verdict::Approve,
                comment: "go".into(),
            },
        )
        .await
        .unwrap();
    let dir = data.path().join("pkg");
    let mut files = example(2);
    if let Some(n) = options.artifact_bytes {
        // Incompressible, reproducible bytes.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let bytes: Vec<u8> = (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        files.insert("artifacts/app.war".into(), bytes);
    }
    for (path, bytes) in &options.files {
        files.insert(path.clone(), bytes.clone());
    }
    for (path, bytes) in corpus::sealed(files, &task, 1) {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    let oh = person("oh.pm", Role::Pm);
    let v1 = api
        .reviews()
        .import(
            &oh,
            PackageImport {
                task: task.clone(),
                path: dir.display().to_string(),
            },
        )
        .await
        .unwrap();
    let detail = api
        .reviews()
        .decide(
            &oh,
            ReviewDecisionInput {
                task: task.clone(),
                version: 1,
                sha256: v1.sha256.clone(),
                verdict: "approve".into(),
                comment: "looks right".into(),
                view: DiffView::default(),
            },
        )
        .await
        .unwrap();
    assert_eq!(detail.task.status, TaskStatus::ReadyToRollOut);
    Fleet {
        api,
        lab,
        task,
        operator: person("song.operator", Role::Operator),
        security: person("bae.security", Role::SecurityOfficer),
        data,
    }
}
