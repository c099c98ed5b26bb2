//! Demo data for a first look at an empty console (`guardia-console --demo`).
//!
//! Every demo task is driven through the real state machine and stored through the real
//! store, so its timeline is one the product could have produced.

use chrono::{DateTime, Duration, FixedOffset};
use guardia_domain::{Category, PersonName, TaskDraft, TaskEvent, TaskEvent as E};
use guardia_store::Store;

use crate::ApiError;

/// The demo task that comes with a result package to review (the example package of
/// `tests/fixtures/packages/notice-fix`, v1).
const DEMO_PACKAGE_TASK: &str = "공지사항 제목 XSS 수정";

struct DemoTask {
    hours_ago: i64,
    title: &'static str,
    category: Category,
    sub_type: &'static str,
    system: &'static str,
    request: &'static str,
    requester: &'static str,
    /// How many steps of [`HAPPY_PATH`] the task went through, silently…
    happy_steps: usize,
    /// …and then these, with the remark given at each.
    then: &'static [(TaskEvent, &'static str)],
}

/// The uneventful life of a task, from submission to a completed rollout.
const HAPPY_PATH: [TaskEvent; 7] = [
    E::Submitted,
    E::ChainApproved,
    E::WorkStarted,
    E::ResultImported,
    E::ResultApproved,
    E::RolloutStarted,
    E::RolloutCompleted,
];

/// The systems the demo tasks name (the demo people's routing covers them).
pub(crate) const SYSTEMS: &[&str] = &[
    "minwon-portal",
    "hr-portal",
    "e-approval",
    "emr-gateway",
    "plant-notice",
    "payroll",
    "library-search",
    "hospital-booking",
];

const DEMO: &[DemoTask] = &[
    DemoTask {
        hours_ago: 1,
        title: "민원포털 메인 배너 교체",
        category: Category::Deploy,
        sub_type: "web-fix",
        system: "minwon-portal",
        request: "연말 공지 배너(banner_2026_12.png)로 메인 배너를 교체해 주세요.",
        requester: "kim.minji",
        happy_steps: 0,
        then: &[],
    },
    DemoTask {
        hours_ago: 3,
        title: "인사시스템 WAS 재기동 (메모리 사용률 95%)",
        category: Category::InfraControl,
        sub_type: "service-restart",
        system: "hr-portal",
        request: "힙 사용률이 95%를 넘었습니다. 업무 시간 외에 WAS를 재기동해 주세요.",
        requester: "lee.jihoon",
        happy_steps: 0,
        then: &[(E::Submitted, "야간 작업 요청")],
    },
    DemoTask {
        hours_ago: 6,
        title: "전자결재 SSL 인증서 교체 (만료 D-7)",
        category: Category::InfraControl,
        sub_type: "certificate-replace",
        system: "e-approval",
        request: "새 인증서는 보안팀 공유 폴더에 있습니다. 142개 사이트 모두 교체가 필요합니다.",
        requester: "park.soyeon",
        happy_steps: 2,
        then: &[],
    },
    DemoTask {
        hours_ago: 9,
        title: "Replace expiring TLS certificate on the EMR gateway",
        category: Category::InfraControl,
        sub_type: "certificate-replace",
        system: "emr-gateway",
        request: "Hospitals report browser warnings from 12/01. New chain is in the security share.",
        requester: "choi.hyun",
        happy_steps: 3,
        then: &[],
    },
    DemoTask {
        hours_ago: 20,
        title: "민원 신청 중복 데이터 정리",
        category: Category::Data,
        sub_type: "data-cleanup",
        system: "minwon-portal",
        request: "2026-10 이관 시 생긴 중복 신청 건(약 3,200건)을 정리해 주세요. 원본은 백업 후 진행.",
        requester: "jung.eunji",
        happy_steps: 3,
        then: &[(E::ResultImported, "package v1")],
    },
    DemoTask {
        hours_ago: 6,
        title: DEMO_PACKAGE_TASK,
        category: Category::Deploy,
        sub_type: "web-fix",
        system: "minwon-portal",
        request: "공지사항 제목이 HTML로 그대로 출력됩니다(XSS). 제목을 이스케이프하고 1보다 작은 페이지 번호도 막아 주세요.",
        requester: "jung.eunji",
        happy_steps: 3,
        then: &[(E::ResultImported, "package v1")],
    },
    DemoTask {
        hours_ago: 28,
        title: "Fix broken links on the plant safety notice page",
        category: Category::Deploy,
        sub_type: "web-fix",
        system: "plant-notice",
        request: "Three links on /safety/notice.html return 404 since the document archive moved.",
        requester: "han.seojun",
        happy_steps: 3,
        then: &[
            (E::ResultImported, "package v1"),
            (
                E::ReworkRequested,
                "The diff also rewrites site.css; limit it to notice.html.",
            ),
            (E::ResultImported, "package v2"),
            (E::ResultApproved, "v2 touches notice.html only"),
        ],
    },
    DemoTask {
        hours_ago: 30,
        title: "급여 계산 모듈 패치 배포",
        category: Category::Deploy,
        sub_type: "artifact-deploy",
        system: "payroll",
        request: "소득세 간이세액표 2026 개정 반영 패치(payroll-3.8.2.war)를 배포해 주세요.",
        requester: "yoon.jiwoo",
        happy_steps: 5,
        then: &[(E::RolloutStarted, "canary 10 sites")],
    },
    DemoTask {
        hours_ago: 50,
        title: "정기 로그 점검 (11월)",
        category: Category::Inspection,
        sub_type: "log-review",
        system: "hr-portal",
        request: "11월 정기 점검: 에러 로그 패턴과 디스크 사용량을 확인해 주세요.",
        requester: "kim.minji",
        happy_steps: 6,
        then: &[(E::RolloutCompleted, "no findings")],
    },
    DemoTask {
        hours_ago: 74,
        title: "Deploy search index update to library sites",
        category: Category::Deploy,
        sub_type: "artifact-deploy",
        system: "library-search",
        request: "Roll out the rebuilt search index (index-2026-11.tar.gz) to all library sites.",
        requester: "han.seojun",
        happy_steps: 6,
        then: &[(E::Halted, "Kill switch: HTTP 502 on tier-1 canary sites")],
    },
    DemoTask {
        hours_ago: 98,
        title: "병원 예약시스템 설정 변경",
        category: Category::Deploy,
        sub_type: "config-change",
        system: "hospital-booking",
        request: "예약 가능 기간을 30일에서 60일로 늘려 주세요.",
        requester: "jung.eunji",
        happy_steps: 1,
        then: &[(
            E::RequestRejected,
            "11/30까지 변경 동결 기간입니다. 12월에 다시 요청해 주세요.",
        )],
    },
    DemoTask {
        hours_ago: 122,
        title: "도서관 검색 서버 JVM 옵션 변경",
        category: Category::InfraControl,
        sub_type: "security-change",
        system: "library-search",
        request: "TLS 1.0/1.1 비활성화를 위해 JVM 옵션을 변경해 주세요.",
        requester: "choi.hyun",
        happy_steps: 6,
        then: &[
            (
                E::RolloutFailed,
                "3 consecutive health check failures on site LIB-017",
            ),
            (E::RolledBack, "restored backup on 12 touched sites"),
        ],
    },
];

/// Who plays each part in the demo's timelines.
fn actor_for(event: TaskEvent, requester: &'static str) -> &'static str {
    match event {
        E::Submitted | E::Resubmitted | E::Cancelled => requester,
        E::ChainApproved | E::RequestRejected | E::ReturnedForInfo => "lee.teamlead",
        E::WorkStarted | E::ResultImported => "ai-agent",
        E::ReworkRequested | E::ResultApproved => "oh.pm",
        E::RolloutStarted
        | E::RolloutCompleted
        | E::RolloutFailed
        | E::RolledBack
        | E::RolloutResumed => "song.operator",
        E::Halted => "bae.security",
    }
}

/// A restart when memory runs out is urgent, a deploy high, inspections low; the rest normal.
fn demo_priority(demo: &DemoTask) -> guardia_domain::Priority {
    use guardia_domain::Priority;
    match (demo.category, demo.sub_type) {
        (Category::InfraControl, "service-restart") => Priority::Urgent,
        (Category::Deploy, _) => Priority::High,
        (Category::Inspection, _) => Priority::Low,
        _ => Priority::Normal,
    }
}

/// Minutes between two steps of a demo timeline.
const STEP: Duration = Duration::minutes(9);

pub(crate) async fn seed(store: &dyn Store, now: DateTime<FixedOffset>) -> Result<usize, ApiError> {
    // Oldest first, as they would have been registered, so ids count up with time.
    let mut chronological: Vec<&DemoTask> = DEMO.iter().collect();
    chronological.sort_by_key(|demo| std::cmp::Reverse(demo.hours_ago));
    for demo in chronological {
        let new = TaskDraft {
            title: demo.title.into(),
            category: Some(demo.category),
            sub_type: demo.sub_type.into(),
            system: demo.system.into(),
            request: demo.request.into(),
            requester: demo.requester.into(),
            priority: Some(demo_priority(demo)),
        }
        .validate()
        .map_err(ApiError::Invalid)?;
        let mut at = now - Duration::hours(demo.hours_ago);
        let requester = new.requester.clone();
        let mut task = store
            .insert_task(&new, at.date_naive(), at.to_utc(), &requester, &|task| {
                crate::audit_entries::task_created(task, &requester)
            })
            .await?;
        let happy = HAPPY_PATH.iter().take(demo.happy_steps).map(|e| (*e, ""));
        for (event, note) in happy.chain(demo.then.iter().copied()) {
            at += STEP;
            let transition = task.status.apply(event)?;
            let actor = PersonName::parse(actor_for(event, demo.requester))
                .map_err(|e| ApiError::Invalid(vec![e]))?;
            let when = at.to_utc();
            task = store
                .record_transition(task.id, transition, &actor, note, when, &|task| {
                    crate::audit_entries::task_transitioned(task, transition, &actor, note, when)
                })
                .await?;
        }
        if demo.title == DEMO_PACKAGE_TASK {
            crate::reviews::seed_demo_package(store, &task, at.to_utc()).await?;
        }
    }
    tracing::info!(tasks = DEMO.len(), "demo data seeded");
    Ok(DEMO.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_routing_covers_exactly_the_systems_the_demo_tasks_name() {
        let mut named: Vec<&str> = DEMO.iter().map(|d| d.system).collect();
        named.sort_unstable();
        named.dedup();
        let mut routed = SYSTEMS.to_vec();
        routed.sort_unstable();
        assert_eq!(named, routed);
    }
}
