//! The result-package review in the real window (issue 11): the PM imports the example
//! package from a path, marks files viewed, comments on a line, asks for rework (the brief
//! appears in the outbox); v2 arrives through the inbox folder — the changed file is
//! unviewed again, the unchanged ones stay viewed, the comment on an unchanged line carries
//! over and the one on a changed line is outdated — and the PM approves. The audit log
//! shows both decisions with the package hashes and the coverage; the task is
//! READY_TO_ROLL_OUT. A second test opens a 100,000-line package and keeps the diff pane
//! under 5,000 DOM nodes from top to bottom.

use std::path::Path;

use guardia_e2e::{Driver, cli_as};
use guardia_package::corpus;

const PW: &str = "a long demo password 1";

fn guardia(data: &Path, user: Option<&str>, args: &[&str]) -> String {
    cli_as(data, user, PW, args)
}

/// The example package `version` (tests/fixtures/packages/notice-fix), sealed for `task`
/// by the CLI as an agent would, in `dir`.
fn write_package(data: &Path, dir: &Path, task: &str, version: u32) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/packages/notice-fix")
        .join(format!("v{version}"));
    let mut files = corpus::read_folder(&fixture).unwrap();
    files.remove("manifest.json");
    for (path, bytes) in files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    guardia(
        data,
        None,
        &[
            "package",
            "seal",
            dir.to_str().unwrap(),
            "--task",
            task,
            "--version",
            &version.to_string(),
            "--producer",
            "claude-code",
        ],
    );
}

/// Users, the `portal` system's owner, and a DEPLOY task approved for work.
fn approved_task(d: &Path) -> String {
    let admin = Some("admin");
    guardia(d, None, &["user", "add", "admin", "--role", "admin"]);
    for (name, role) in [
        ("kim.minji", "requester"),
        ("lee.teamlead", "team_lead"),
        ("oh.pm", "pm"),
    ] {
        guardia(d, admin, &["user", "add", name, "--role", role]);
    }
    guardia(d, admin, &["system", "owner", "portal", "lee.teamlead"]);
    let id = guardia(
        d,
        Some("kim.minji"),
        &[
            "task",
            "create",
            "--title",
            "공지사항 제목 이스케이프",
            "--category",
            "DEPLOY",
            "--sub-type",
            "web-fix",
            "--system",
            "portal",
        ],
    )
    .trim()
    .to_owned();
    guardia(d, Some("kim.minji"), &["task", "submit", &id]);
    guardia(
        d,
        Some("lee.teamlead"),
        &["task", "approve", &id, "--comment", "go ahead"],
    );
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pm_reviews_asks_for_rework_and_approves_v2_bound_to_what_was_seen() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let id = approved_task(d);
    let v1 = d.join("incoming/v1");
    write_package(d, &v1, &id, 1);

    let driver = Driver::start();
    let ui = driver.launch(d).await;
    ui.click("[data-test=signin-lang-en]").await;
    ui.wait_for_text("[data-test=signin] h1", "Sign in").await;
    ui.sign_in("oh.pm", PW).await;
    ui.click("[data-test=nav-reviews]").await;

    // Import v1 from a path (a folder on a stick).
    ui.click(&format!("[data-test=import-task] option[value='{id}']"))
        .await;
    ui.type_into("[data-test=import-path]", v1.to_str().unwrap())
        .await;
    ui.click("[data-test=import-submit]").await;
    ui.wait_for_attr("[data-test=review-head]", "data-version", "1")
        .await;
    ui.find("[data-test=package-warnings] li[data-kind=log_errors]")
        .await;
    assert_eq!(ui.all("[data-test=tree-file]").await.len(), 8);
    ui.find("[data-test=diff-file][data-path='conf/portal.properties']")
        .await;
    ui.wait_for_attr("[data-test=diff-pane]", "data-lit", "1")
        .await;
    ui.screenshot("review-v1").await;

    // Mark every file but the properties viewed.
    for path in [
        "scripts/restart.sh",
        "sql/V42__notice_index.sql",
        "src/main/java/kr/go/portal/notice/NoticeController.java",
        "web/css/site.css",
        "web/js/banner.js",
        "web/logo.png",
        "web/notice.jsp",
    ] {
        ui.click(&format!(
            "[data-test=tree-file][data-path='{path}'] [data-test=viewed-box]"
        ))
        .await;
        ui.wait_for_attr(
            &format!("[data-test=tree-file][data-path='{path}']"),
            "data-mark",
            "viewed",
        )
        .await;
    }
    ui.wait_for_attr("[data-test=coverage]", "data-viewed", "7")
        .await;

    // Comment on two lines, found with the diff's own search.
    for (needle, text) in [
        (
            "escapeXml(n.title)",
            "c:out escapes already; drop fn:escapeXml",
        ),
        (
            ".notice:hover",
            "this colour is unreadable on the dark theme",
        ),
    ] {
        ui.type_into("[data-test=diff-search]", needle).await;
        ui.find("[data-test=diff-search]")
            .await
            .send_keys("\u{E007}")
            .await
            .unwrap();
        ui.wait_for_attr("[data-test=search-count]", "data-hits", "1")
            .await;
        ui.click("[data-test=comment-line]").await;
        ui.type_into("[data-test=comment-text]", text).await;
        ui.click("[data-test=comment-send]").await;
        ui.wait_gone("[data-test=comment-dialog]").await;
        ui.find("[data-test=diff-search]")
            .await
            .send_keys("\u{E00C}")
            .await
            .unwrap();
    }
    ui.wait_for_attr(
        "[data-test=comment-item][data-path='web/notice.jsp']",
        "data-line",
        "9",
    )
    .await;

    // Rework with notes: the brief is in the outbox.
    ui.click("[data-test=decide-rework]").await;
    ui.type_into("[data-test=decision-text]", "hover 색을 바꿔 주세요")
        .await;
    ui.click("[data-test=decision-send]").await;
    ui.wait_gone("[data-test=decision-dialog]").await;
    ui.wait_for_text("[data-test=package-state]", "rework")
        .await;
    let brief = d.join("outbox").join(format!("{id}.rework-2.json"));
    let brief: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&brief).expect("the rework brief")).unwrap();
    assert_eq!(brief["notes"], "hover 색을 바꿔 주세요");
    assert_eq!(brief["comments"].as_array().unwrap().len(), 2);
    ui.click("[data-test=tab-4]").await;
    ui.find("[data-test=document][data-kind=rework_brief] [data-test=document-path]")
        .await;

    // v2 arrives in the inbox folder; the PM imports it from the queue.
    write_package(d, &d.join("inbox/notice-fix-v2"), &id, 2);
    ui.click("[data-test=review-back]").await;
    ui.click("[data-test=inbox-refresh]").await;
    ui.click("[data-test=inbox-item][data-state=ready] [data-test=inbox-import]")
        .await;
    ui.wait_for_attr("[data-test=review-head]", "data-version", "2")
        .await;
    ui.wait_for_attr(
        "[data-test=tree-file][data-path='web/css/site.css']",
        "data-mark",
        "none",
    )
    .await;
    ui.find("[data-test=tree-file][data-path='web/css/site.css'] [data-test=since-previous]")
        .await;
    ui.wait_for_attr(
        "[data-test=tree-file][data-path='web/notice.jsp']",
        "data-mark",
        "viewed",
    )
    .await;
    ui.wait_for_attr("[data-test=coverage]", "data-viewed", "6")
        .await;
    ui.wait_for_attr(
        "[data-test=comment-item][data-path='web/notice.jsp']",
        "data-outdated",
        "false",
    )
    .await;
    ui.wait_for_attr(
        "[data-test=comment-item][data-path='web/css/site.css']",
        "data-outdated",
        "true",
    )
    .await;
    // A comment in the list takes the reviewer to its line.
    ui.click("[data-test=comment-item][data-path='web/notice.jsp'] [data-test=comment-goto]")
        .await;
    // Waits for the selection to move there (a row selected earlier may still be on screen
    // for a moment: reading the first `.drow.selected` at once raced with the jump).
    ui.wait_for_text_containing(".drow.selected", "escapeXml(n.title)")
        .await;
    ui.screenshot("review-v2").await;

    // The changed file, seen against v1, then viewed; approve.
    ui.click("[data-test=toggle-against]").await;
    ui.find("[data-test=diff-file][data-path='web/css/site.css']")
        .await;
    ui.click("[data-test=toggle-against]").await;
    ui.click("[data-test=tree-file][data-path='web/css/site.css'] [data-test=viewed-box]")
        .await;
    ui.wait_for_attr("[data-test=coverage]", "data-viewed", "7")
        .await;
    ui.click("[data-test=decide-approve]").await;
    ui.find("[data-test=not-viewed]").await;
    ui.type_into(
        "[data-test=decision-text]",
        "hover fixed; properties checked by the owner",
    )
    .await;
    ui.click("[data-test=decision-send]").await;
    ui.wait_gone("[data-test=decision-dialog]").await;
    ui.wait_for_text("[data-test=package-state]", "approved")
        .await;
    ui.screenshot("review-approved").await;
    ui.quit().await;

    // The log holds both decisions with the package hashes and the coverage.
    let log = guardia(
        d,
        Some("admin"),
        &["--json", "audit", "list", "--kind", "review.decided"],
    );
    let page: serde_json::Value = serde_json::from_str(&log).unwrap();
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{log}");
    let details: Vec<&str> = entries
        .iter()
        .map(|e| e["details"].as_str().unwrap())
        .collect();
    assert!(
        details[0].contains("verdict=approve") && details[0].contains("viewed=7"),
        "{}",
        details[0]
    );
    assert!(details[0].contains("not_viewed=1"), "{}", details[0]);
    assert!(details[1].contains("verdict=rework"), "{}", details[1]);
    let show = guardia(d, Some("admin"), &["--json", "package", "show", &id]);
    let v2: serde_json::Value = serde_json::from_str(&show).unwrap();
    assert!(details[0].contains(v2["sha256"].as_str().unwrap()));
    let task = guardia(d, Some("admin"), &["--json", "task", "show", &id]);
    let task: serde_json::Value = serde_json::from_str(&task).unwrap();
    assert_eq!(task["task"]["status"], "READY_TO_ROLL_OUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_line_package_keeps_the_diff_pane_small_from_top_to_bottom() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let id = approved_task(d);
    let dir = d.join("incoming/big");
    let diff = corpus::big_diff(500, 100_000);
    for (path, bytes) in corpus::sealed(corpus::big_package(&diff), &id, 1) {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    guardia(
        d,
        Some("oh.pm"),
        &["package", "import", dir.to_str().unwrap(), "--task", &id],
    );
    let driver = Driver::start();
    let ui = driver.launch(d).await;
    ui.click("[data-test=signin-lang-en]").await;
    ui.wait_for_text("[data-test=signin] h1", "Sign in").await;
    ui.sign_in("oh.pm", PW).await;
    ui.click("[data-test=nav-reviews]").await;
    // Timed inside the page (performance.now, checked every animation frame), so the
    // figures are the window's, not WebDriver's round trips.
    let timed = |click: String, until: String| {
        let script = format!(
            "const done = arguments[arguments.length - 1]; const t0 = performance.now(); \
             document.querySelector(\"{click}\").click(); \
             (function check() {{ if ({until}) done(performance.now() - t0); \
             else requestAnimationFrame(check); }})();"
        );
        let client = ui.client.clone();
        async move {
            client
                .execute_async(&script, vec![])
                .await
                .unwrap()
                .as_f64()
                .unwrap()
        }
    };
    ui.find(&format!("[data-test=review-row][data-id='{id}']"))
        .await;
    let first_paint = timed(
        format!("[data-test=review-row][data-id='{id}'] [data-test=open-review]"),
        "document.querySelector('[data-test=diff-line] .code') && \
         document.querySelectorAll('[data-test=tree-file]').length === 500"
            .to_owned(),
    )
    .await;
    ui.find("[data-test=diff-line]").await;
    assert_eq!(ui.all("[data-test=tree-file]").await.len(), 500);
    // Jump to the last file.
    let last = corpus_last_path(&diff);
    let jump = timed(
        format!("[data-test=tree-file][data-path='{last}'] .file-name"),
        format!("document.querySelector(\"[data-test=diff-file][data-path='{last}']\")"),
    )
    .await;

    // Scroll top to bottom in screen-sized steps, counting the pane's DOM nodes.
    let total: f64 = ui
        .find("[data-test=diff-pane]")
        .await
        .attr("data-total")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    let mut most = 0u64;
    let steps = 60;
    for step in 0..=steps {
        let top = total * guardia_e2e::REVIEW_ROW * f64::from(step) / f64::from(steps);
        let nodes = ui
            .client
            .execute(
                "const p = document.querySelector('.diff-scroller'); p.scrollTop = arguments[0]; \
                 p.dispatchEvent(new Event('scroll')); \
                 return p.getElementsByTagName('*').length;",
                vec![serde_json::json!(top)],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap();
        most = most.max(nodes);
    }
    let nodes_now = ui
        .client
        .execute(
            "return document.querySelector('.diff-scroller').getElementsByTagName('*').length;",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    most = most.max(nodes_now);
    println!(
        "review of {total} display rows: first paint {first_paint:.0} ms, jump to the last \
         file {jump:.0} ms, most DOM nodes in the diff pane while scrolling {most}"
    );
    assert!(most < 5_000, "the diff pane grew to {most} DOM nodes");
    ui.quit().await;
}

fn corpus_last_path(diff: &str) -> String {
    diff.lines()
        .filter_map(|l| l.strip_prefix("+++ b/"))
        .next_back()
        .unwrap()
        .to_owned()
}
