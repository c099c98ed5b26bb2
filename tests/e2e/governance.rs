//! Settings for people and routing in the real window: an admin sees the people of the
//! console and adds one; a team lead, who does not see the people, changes their own
//! password and marks themselves away on the system they own — every change checked by the
//! backend — and signs in again with the new password.

use guardia_e2e::{Driver, cli_as};

const PW: &str = "a long demo password 1";
const NEW_PW: &str = "a brand new password 2";

fn guardia(data: &std::path::Path, user: Option<&str>, args: &[&str]) -> String {
    cli_as(data, user, PW, args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_person_and_a_team_lead_changes_password_and_goes_away() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    guardia(d, None, &["user", "add", "admin", "--role", "admin"]);
    guardia(
        d,
        Some("admin"),
        &["user", "add", "lee.teamlead", "--role", "team_lead"],
    );
    guardia(
        d,
        Some("admin"),
        &["system", "owner", "hr-portal", "lee.teamlead"],
    );

    let driver = Driver::start();
    let ui = driver.launch(d).await;
    ui.click("[data-test=signin-lang-en]").await;
    // The screen re-renders in English; type only into what stays.
    ui.wait_for_text("[data-test=signin] h1", "Sign in").await;
    ui.sign_in("admin", PW).await;
    ui.click("[data-test=nav-settings]").await;
    ui.find("[data-test=person-row][data-name=lee\\.teamlead]")
        .await;
    ui.type_into("[data-test=person-name]", "kim.minji").await;
    ui.type_into("[data-test=person-display]", "김민지").await;
    ui.type_into("[data-test=person-password]", PW).await;
    ui.type_into("[data-test=person-roles]", "requester@행정안전부")
        .await;
    ui.click("[data-test=person-form] button[type=submit]")
        .await;
    ui.wait_for_text_containing(
        "[data-test=person-row][data-name=kim\\.minji]",
        "requester@행정안전부",
    )
    .await;
    ui.wait_for_attr(
        "[data-test=routing-row][data-system=hr-portal]",
        "data-unconfirmed",
        "false",
    )
    .await;
    ui.find("[data-test=policy-failures]").await;
    ui.screenshot("settings-admin").await;
    ui.click("[data-test=sign-out]").await;

    ui.sign_in("lee.teamlead", PW).await;
    ui.click("[data-test=nav-settings]").await;
    ui.find("[data-test=password-form]").await;
    assert!(ui.all("[data-test=people-panel]").await.is_empty());
    ui.type_into("[data-test=password-current]", PW).await;
    ui.type_into("[data-test=password-new]", NEW_PW).await;
    ui.type_into("[data-test=password-again]", "a different one 3")
        .await;
    ui.click("[data-test=password-form] button[type=submit]")
        .await;
    ui.wait_for_text("[data-test=password-error]", "The new passwords differ.")
        .await;
    ui.type_into("[data-test=password-again]", NEW_PW).await;
    ui.click("[data-test=password-form] button[type=submit]")
        .await;
    ui.wait_for_text_containing("[data-test=notice]", "Password changed")
        .await;
    ui.click("[data-test=routing-row][data-system=hr-portal] [data-test=route-away]")
        .await;
    ui.wait_for_text_containing("[data-test=routing-row][data-system=hr-portal]", "(Away)")
        .await;
    ui.screenshot("settings-team-lead").await;
    ui.click("[data-test=sign-out]").await;
    ui.sign_in("lee.teamlead", NEW_PW).await;
    ui.quit().await;
}
