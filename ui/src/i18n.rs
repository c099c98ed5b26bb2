//! Korean and English text. Every string is one row with both languages, so a missing
//! translation does not compile. Domain codes (statuses, categories, problems, error codes)
//! are translated here too; the UI never shows a backend message as the headline.

use guardia_domain::{Category, Priority, Problem, TaskEvent, TaskStatus};
use guardia_ipc::{ErrorCode, Lang};

macro_rules! texts {
    ($($key:ident => $ko:literal, $en:literal;)*) => {
        /// A piece of UI text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Key { $($key),* }

        /// The text for `key` in `lang`.
        pub fn tr(lang: Lang, key: Key) -> &'static str {
            match key {
                $(Key::$key => match lang { Lang::Ko => $ko, Lang::En => $en },)*
            }
        }
    };
}

texts! {
    CommentsWord => "줄 의견", "Line comments";
    Outdated => "지난 의견", "outdated";
    PackageImported => "결과 패키지를 가져왔습니다", "result package imported";
    WaitingForReview => "검토 대기", "Waiting for review";
    NothingToReview => "검토할 결과 패키지가 없습니다.", "No result package waits for review.";
    ImportPackage => "결과 패키지 가져오기", "Import a result package";
    ImportForTask => "작업 선택 (승인됨 / 진행 중)", "Task (approved / in progress)";
    ImportPathHint => "폴더, .zip 또는 .tar.gz 경로 (예: /media/usb/OPS-…)", "Folder, .zip or .tar.gz path (e.g. /media/usb/OPS-…)";
    InboxFolder => "받은 편지함 폴더 (USB / 공유 드라이브)", "Inbox folder (USB stick / shared drive)";
    OfWord => "/", "of";
    ViewedWord => "확인함", "viewed";
    WaivedWord => "면제", "waived";
    RequestRework => "보완 요청", "Request rework";
    TakeOver => "직접 처리", "Take over";
    TabDiff => "변경 내용", "Diff";
    TabLog => "실행 로그", "Execution log";
    TabHealth => "헬스 체크·요약", "Health & summary";
    TabDocuments => "작업 지시서", "Documents";
    SideBySide => "좌우 비교", "Side by side";
    HideWhitespace => "공백 변경 숨김", "Hide whitespace";
    CompareWith => "이전 버전과 비교", "Compare with";
    WaiveReason => "이 파일을 확인하지 않고 넘어가는 이유 (예: 자동 생성, 해시로 확인)", "Why this file is not viewed (e.g. generated, checked by hash)";
    FilesWord => "파일", "Files";
    ChangedSince => "이전과 다름", "changed";
    NewSince => "새 파일", "new";
    BinaryWord => "바이너리", "binary";
    GeneratedWord => "자동 생성", "generated";
    Waive => "면제", "Waive";
    SearchInDiff => "변경 내용에서 찾기 (Enter 다음, Shift+Enter 이전)", "Search the diff (Enter next, Shift+Enter previous)";
    CommentOnLine => "줄 의견", "Comment on line";
    ReviewKeys => "j/k 덩어리 · [ ] 파일 · u 미확인 · v 확인 · n/N 찾기 · s 좌우 · w 공백 · d 비교", "j/k hunk · [ ] file · u unviewed · v viewed · n/N hits · s split · w whitespace · d compare";
    SearchInLog => "로그에서 찾기", "Search the log";
    HitsWord => "건", "hits";
    Summary => "요약", "Summary";
    HealthChecks => "헬스 체크", "Health checks";
    Artifacts => "배포 파일", "Artifacts";
    WorkOrder => "작업 지시서", "Work order";
    ReworkBrief => "보완 요청서", "Rework brief";
    Withdrawal => "작업 회수", "Withdrawal";
    NotWritten => "기록되지 않음:", "not written:";
    NoDocuments => "아직 에이전트에게 보낸 문서가 없습니다.", "Nothing was written for the agent yet.";
    ViewedOrWaived => "파일 확인 또는 면제", "files viewed or waived";
    NotViewedYet => "아직 확인하지 않은 파일", "Not viewed yet";
    FullCoverageRequired => "이 시스템은 모든 파일을 확인하거나 면제해야 승인할 수 있습니다.", "This system needs every file viewed or waived before approval.";
    ReworkNotes => "보완 요청 내용 (에이전트에게 전달)", "Rework notes (sent to the agent)";
    CommentSaved => "의견을 저장했습니다", "Comment saved";
    OpenReview => "결과 검토 열기", "Open review";
    Documents => "에이전트 문서", "Documents for the agent";
    StatusReviews => "1–4 탭 · j/k 덩어리 · [ ] 파일 · u 미확인 · v 확인 · c 의견 · ⇧A 승인 · ⇧R 보완 · ⇧T 직접 처리 · Esc 목록", "1–4 tabs · j/k hunk · [ ] file · u unviewed · v viewed · c comment · ⇧A approve · ⇧R rework · ⇧T take over · Esc list";
    Tagline => "관제 콘솔", "Control-room console";
    SettingsPassword => "내 비밀번호", "My password";
    FieldPriority => "우선순위", "Priority";
    SitesWord => "사이트", "sites";
    ServersWord => "서버", "servers";
    ShortcutNeedsMe => "내 결재만 보기 (작업)", "Only what waits for me (Tasks)";
    ShortcutDecide => "결재 요청 / 승인 / 보완 요청 / 반려 (열린 작업)", "Submit / approve / return / reject (open task)";
    MapLabel => "변수 → 열 (공백으로 구분)", "Variable → column (space-separated)";
    BulkEdit => "일괄 변경", "Bulk edit";
    BulkHint => "현재 검색·등급 필터에 맞는 서버 전체를 하나의 변경으로 바꿉니다.", "Changes every server the current search and tier filter show, as one change.";
    BulkTier => "등급 (비우면 그대로)", "Tier (empty: unchanged)";
    BulkAddTags => "추가할 태그", "Tags to add";
    BulkRemoveTags => "뺄 태그", "Tags to remove";
    BulkPreview => "미리 보기", "Preview";
    BulkApply => "적용", "Apply";
    SettingsPeople => "사용자", "People";
    SettingsPolicy => "로그인 정책", "Sign-in policy";
    SettingsRouting => "결재 담당자", "Approval routing";
    PasswordChanged => "비밀번호를 바꿨습니다", "Password changed";
    PasswordsDiffer => "새 비밀번호가 서로 다릅니다.", "The new passwords differ.";
    PasswordCurrent => "현재 비밀번호", "Current password";
    PasswordNew => "새 비밀번호 (10자 이상)", "New password (10 characters or more)";
    PasswordAgain => "새 비밀번호 확인", "New password again";
    PasswordChange => "비밀번호 변경", "Change password";
    PersonAdded => "추가됨", "added";
    RolesHint => "역할@범위 (예: team_lead@행정안전부/hr-portal)", "role@scope (e.g. team_lead@행정안전부/hr-portal)";
    AccountLocked => "잠김", "Locked";
    LockedOutUntil => "잠금 해제 시각", "Locked out until";
    AccountActive => "사용 중", "Active";
    LockReason => "잠그는 이유 (감사 로그에 남습니다)", "Why lock it? (goes into the audit log)";
    Unlock => "잠금 해제", "Unlock";
    Lock => "잠금", "Lock";
    DisplayName => "표시 이름", "Display name";
    AddPerson => "사용자 추가", "Add person";
    PolicyFailures => "잠금까지 실패 횟수", "Failures before a lockout";
    PolicyLockout => "잠금 시간 (분)", "Lockout (minutes)";
    PolicyIdle => "자동 잠금까지 유휴 시간 (분)", "Idle minutes before the session locks";
    Save => "저장", "Save";
    OnlyUnconfirmed => "30일 넘게 확인되지 않은 것만", "Only mappings unconfirmed for 30 days";
    NoRouting => "아직 담당자가 지정된 시스템이 없습니다 (guardia system owner).", "No system has approval routing yet (guardia system owner).";
    Away => "부재", "Away";
    Back => "복귀", "Back";
    Sensitive => "민감", "Sensitive";
    DeputyPrompt => "대리인 이름 (비우면 해제)", "Deputy's name (empty clears it)";
    Deputy => "대리인", "Deputy";
    Confirm => "확인", "Confirm";
    OwnerPrompt => "담당자 이름 (비우면 해제)", "Owner's name (empty clears it)";
    Owner => "담당자", "Owner";
    Supervisor => "상급자", "Supervisor";
    ConfirmedAt => "확인 시각", "Confirmed";
    InboxTitle => "나에게 온 결재", "Waiting for me";
    InboxEmpty => "기다리는 결재가 없습니다", "Nothing waits for you";
    TileWaiting => "대기", "Waiting";
    TileInProgress => "진행 중", "In progress";
    TileDone => "완료", "Done";
    TileNeedsMe => "내 결재", "Needs me";
    Urgent => "긴급", "URGENT";
    ApprovalChain => "결재선", "Approval chain";
    ApprovalRound => "차수", "Round";
    StepTeamLead => "팀장", "Team lead";
    StepSecurityCheck => "보안 점검 (자동)", "Security check (automatic)";
    StepPm => "PM 검토", "PM review";
    StepSecurityOfficer => "보안 담당자", "Security officer";
    StepPending => "대기 전", "Not reached";
    StepWaiting => "결재 대기", "Waiting";
    StepApproved => "승인", "Approved";
    StepRejected => "반려", "Rejected";
    StepReturned => "보완 요청", "Returned";
    StepPassed => "통과", "Passed";
    StepFailed => "실패", "Failed";
    HeldBy => "담당", "Held by";
    AnyOfRole => "역할 담당자 누구나", "anyone with the role";
    EscalatesIn => "에스컬레이션까지", "Escalates in";
    Overdue => "기한 초과", "Overdue";
    HandedOn => "이관", "Handed on";
    ReasonSla => "SLA 초과", "SLA expired";
    ReasonAway => "담당자 부재", "owner away";
    SubmitForApproval => "결재 요청", "Submit for approval";
    Submitted => "결재 요청됨", "submitted for approval";
    DecisionComment => "의견 (필수)", "Comment (required)";
    Approve => "승인", "Approve";
    Reject => "반려", "Reject";
    ReturnForInfo => "보완 요청", "Return for information";
    Decided => "결재 완료", "decision recorded";
    CommentNeeded => "의견을 입력하세요.", "Write a comment first.";
    CheckFailed => "점검 실패", "Check failed";
    Loading => "불러오는 중…", "Loading…";
    Retry => "다시 시도", "Retry";
    Close => "닫기", "Close";
    Cancel => "취소", "Cancel";
    KillSwitch => "긴급 중지", "KILL SWITCH";
    KillSwitchConfirm => "모든 자동화를 지금 멈출까요?", "Stop all automation now?";
    KillSwitchExplain => "실행 중인 원격 명령을 모두 종료하고 모든 배포를 중지(HALTED)합니다. 보안 담당자가 다시 허용할 때까지 서버를 바꾸는 작업은 시작되지 않습니다.", "Every running remote command is killed and every rollout is HALTED. Nothing that changes a server starts again until a security officer re-arms.";
    ReasonWord => "사유 (필수)", "Reason (required)";
    KillSwitchEngaged => "긴급 중지 중 · KILL SWITCH ENGAGED", "KILL SWITCH ENGAGED · 긴급 중지 중";
    KillSwitchWhat => "허용되는 것 / 거부되는 것", "What is allowed / refused";
    Rearm => "다시 허용 (보안 담당자)", "Re-arm (security officer)";
    NewRollout => "새 배포", "New rollout";
    ChooseTask => "배포 대기 작업 선택…", "Choose a task ready to roll out…";
    PreviewPlan => "계획 미리보기", "Preview plan";
    PhaseWord => "단계", "Phase";
    BatchesWord => "배치", "Batches";
    GateWord => "게이트", "Gate";
    RollbackWord => "롤백 범위", "Rollback scope";
    StartRollout => "배포 시작", "Start rollout";
    PauseWord => "일시 정지", "Pause";
    ResumeWord => "재개", "Resume";
    OpenGate => "다음 단계 승인", "Open the gate";
    AbortWord => "중단", "Abort";
    RollbackAll => "모두 롤백", "Roll back all";
    AbandonWord => "현 상태로 종료", "Abandon";
    BudgetWord => "실패 허용", "Failure budget";
    SoakSeconds => "단계 사이 관찰 (초)", "Soak between phases (s)";
    PlaybookParams => "플레이북 매개변수 (이름=값, 줄마다)", "Playbook parameters (NAME=VALUE per line)";
    GateWaits => "다음 단계로 가려면 사람의 승인이 필요합니다 (1등급 사이트).", "The next phase waits for a person (tier-1 sites follow).";
    AllPhases => "모든 단계", "All phases";
    AllStates => "모든 상태", "All states";
    ServiceLogTail => "서비스 로그 (실패 시 수집)", "Service log (fetched on failure)";
    Details => "상세", "Details";
    NavTasks => "작업", "Tasks";
    NavReviews => "검토", "Reviews";
    NavRollouts => "배포", "Rollouts";
    NavIncidents => "사고", "Incidents";
    StatusIncidents => "N 사고 등록 · Ctrl+Alt+K 긴급 중지 · Alt+1–7 구역", "N open an incident · Ctrl+Alt+K kill switch · Alt+1–7 sections";
    IncidentAlerts => "사고 경보", "Incident alerts";
    OpenIncident => "사고 등록", "Open an incident";
    IncidentTitle => "무슨 일이 일어났나요", "What happened";
    SeverityByType => "심각도: 유형 기본값", "Severity: the type's default";
    IncidentLinkHint => "연결: 작업 ID, 롤아웃 ID(R-…) 또는 서버 (선택)", "Link: task id, rollout id (R-…) or server (optional)";
    OpenOnly => "진행 중만", "Open only";
    NoIncidents => "사고가 없습니다.", "No incidents.";
    Breached => "목표 초과", "breached";
    TargetMet => "충족", "met";
    Late => "늦음", "late";
    LeftWord => "남음", "left";
    RespondWithin => "대응 목표", "Respond within";
    RecoverWithin => "복구 목표", "Recover within";
    NextUpdateDue => "다음 상황 보고", "Next status update";
    TakeIncident => "사고 맡기 (대응 시작)", "Take it on (respond)";
    ChangeSeverity => "심각도 변경", "Change severity";
    IncidentRoles => "역할", "Roles";
    PersonName => "사용자 이름", "person";
    Assign => "지정", "Assign";
    Escalations => "에스컬레이션", "Escalations";
    AckEscalation => "확인함", "Acknowledge";
    StatusUpdates => "상황 보고", "Status updates";
    WhatChanged => "무엇이 바뀌었나요 (메신저·메일로 보낼 내용)", "What changed (text for the messenger / e-mail)";
    PostUpdate => "상황 보고 게시", "Post the update";
    ExportEvidence => "증거 패키지 내보내기", "Export the evidence pack";
    EvidenceWritten => "증거 패키지를 저장했습니다:", "Evidence pack written:";
    ExportWritten => "저장했습니다:", "Written:";
    HarmHealth => "사망·건강 피해", "Death or harm to health";
    HarmRights => "기본권 침해", "Fundamental rights";
    HarmProperty => "재산·환경 피해", "Property or environment";
    HarmLaw => "법 위반", "Breach of law";
    Reportability => "신고 대상 여부 점검", "Reportability checklist";
    AiInvolved => "AI 시스템이 관련됨", "An AI system was involved";
    PersonalData => "개인정보 관련", "Personal data involved";
    AffectedPeople => "영향받은 사람 수", "People affected";
    SaveChecklist => "점검 저장 (보고 기한 시작)", "Save (starts the report clocks)";
    ReportDraft => "보고서 초안", "Draft";
    SignOffSubmitted => "법무/DPO 승인 — 제출함으로 표시", "Legal/DPO sign-off — mark submitted";
    Postmortem => "사후 검토", "Postmortem";
    BlamelessHint => "사람이 아니라 시스템과 절차를 묻습니다: \"누가\"보다 \"무엇이 그렇게 하도록 했는가\".", "Ask about systems and steps, not people: \"what made this possible\", not \"who\".";
    DueWord => "기한", "Due";
    Impact => "영향", "Impact";
    RootCause => "근본 원인", "Root cause";
    WentWell => "잘된 점", "What went well";
    WentBadly => "아쉬운 점", "What went badly";
    PreventionActions => "재발 방지 조치 (완료 시 작업으로 등록)", "Prevention actions (become tasks when completed)";
    ActionWhat => "조치", "action";
    ActionOwner => "담당자", "owner";
    Lessons => "교훈", "Lessons";
    Attendees => "참석자 (쉼표로 구분)", "Attendees (comma-separated)";
    SaveDraft => "초안 저장", "Save draft";
    CompletePostmortem => "사후 검토 완료", "Complete the postmortem";
    IncidentStats => "월간 사고 통계", "Monthly incident figures";
    IncidentCount => "사고 수", "Incidents";
    BySeverity => "심각도별", "By severity";
    RespondTimes => "대응 평균/최대", "Respond mean / max";
    RecoverTimes => "복구 평균/최대", "Recover mean / max";
    TargetsMissed => "목표 초과 (대응/복구)", "Targets missed (respond / recover)";
    Recurrences => "재발 (30일)", "Recurrences (30 days)";
    Printable => "인쇄용", "Printable";
    NavAudit => "감사", "Audit";
    NavInventory => "자산", "Inventory";
    NavSettings => "설정", "Settings";
    NewTask => "새 작업", "New task";
    SearchPlaceholder => "ID, 제목, 시스템, 요청자 검색", "Search id, title, system, requester";
    AllCategories => "모든 유형", "All categories";
    AllStatuses => "모든 상태", "All statuses";
    Refresh => "새로 고침", "Refresh";
    NoTasks => "작업이 없습니다", "No tasks yet";
    NoTasksHint => "N 키를 누르거나 ‘새 작업’으로 첫 작업을 등록하세요.", "Press N or ‘New task’ to register the first one.";
    NoMatches => "조건에 맞는 작업이 없습니다", "No task matches these filters";
    ColId => "ID", "ID";
    ColTitle => "제목", "Title";
    ColCategory => "유형", "Category";
    ColSystem => "시스템", "System";
    ColStatus => "상태", "Status";
    ColRequester => "요청자", "Requester";
    ColCreated => "등록", "Created";
    FieldTitle => "제목", "Title";
    FieldCategory => "유형", "Category";
    FieldSubType => "세부 유형", "Sub-type";
    FieldSystem => "대상 시스템", "Target system";
    FieldRequester => "요청자", "Requester";
    FieldRequest => "요청 내용", "Request";
    ChooseCategory => "유형 선택", "Choose a category";
    SubTypeUnspecified => "미지정 (가장 엄격한 승인 적용)", "Unspecified (strictest approval applies)";
    SystemPlaceholder => "예: hr-portal", "e.g. hr-portal";
    RequestPlaceholder => "무엇을, 왜 해야 하는지 적어 주세요.", "What should be done, and why.";
    FormTitle => "새 작업 등록", "Register a task";
    Register => "등록", "Register";
    Registering => "등록 중…", "Registering…";
    FormHasErrors => "표시된 항목을 고쳐 주세요.", "Please fix the marked fields.";
    Registered => "등록됨", "registered";
    Timeline => "이력", "Timeline";
    Created => "등록", "Created";
    Updated => "변경", "Updated";
    TimelineCreated => "작업 등록", "Task registered";
    NoRequestText => "요청 내용 없음", "No request text";
    SettingsLanguage => "언어", "Language";
    SettingsAbout => "이 콘솔", "This console";
    SettingsShortcuts => "단축키", "Keyboard shortcuts";
    Version => "버전", "Version";
    Commit => "빌드 커밋", "Build commit";
    Operator => "운영자", "Operator";
    SignInTitle => "로그인", "Sign in";
    SignInHint => "GUARDiA 계정으로 로그인하세요. 5번 틀리면 15분간 잠깁니다.", "Sign in with your GUARDiA account. Five failures lock it for 15 minutes.";
    SignInName => "사용자 이름", "Name";
    SignInPassword => "비밀번호", "Password";
    SignInSubmit => "로그인", "Sign in";
    SignOut => "로그아웃", "Sign out";
    SessionLockedIdle => "입력이 없어 세션이 잠겼습니다. 다시 로그인하세요.", "The session locked after a while without input. Sign in again.";
    SessionSignedOut => "로그아웃했습니다.", "You signed out.";
    SetUpMode => "설정 단계: 첫 관리자를 추가하면 로그인이 필요합니다", "Set-up: sign-in starts once the first admin is added";
    DataDir => "데이터 폴더", "Data directory";
    Database => "데이터베이스", "Database";
    ReviewsBlurb => "AI 결과 패키지(diff, 실행 로그, 헬스 체크)를 검토하고 승인·반려합니다.", "Review AI result packages (diff, execution log, health check); approve or send back.";
    StartupFailed => "콘솔 데이터를 열 수 없습니다", "The console cannot open its data";
    ShortcutNav => "구역 이동", "Go to section";
    ShortcutNew => "새 작업", "New task";
    ShortcutSearch => "검색", "Search";
    ShortcutMove => "목록 이동", "Move in the list";
    ShortcutClose => "닫기", "Close";
    ShortcutSubmit => "양식 제출", "Submit the form";
    ShortcutRefresh => "새로 고침", "Refresh";
    AuditTitle => "감사 로그", "Audit log";
    Integrity => "무결성", "Integrity";
    IntegrityVerified => "검증됨", "Verified";
    IntegrityFailed => "변조 감지", "Tampering detected";
    IntegrityFailedAck => "변조 감지 (확인됨)", "Tampering detected (acknowledged)";
    IntegrityNever => "아직 검증 안 함", "Not verified yet";
    IntegrityRunning => "검증 중…", "Verifying…";
    Entries => "항목", "Entries";
    EntriesVerified => "개 항목 검증됨", " entries verified";
    LastVerification => "마지막 검증", "Last verification";
    LastCheckpoint => "마지막 체크포인트", "Last checkpoint";
    SinceExport => "내보낸 체크포인트 이후 항목", "Entries since the last exported checkpoint";
    VerifierKeyLabel => "검증 키", "Verifier key";
    Never => "없음", "never";
    DailyDue => "일일 검증 예정", "daily verification due";
    VerifyNow => "지금 검증", "Verify now";
    SignCheckpoint => "체크포인트 서명", "Sign checkpoint";
    ExportText => "파일로 내보내기", "Export file";
    ExportQr => "QR 코드", "QR code";
    ExportPrint => "인쇄용 페이지", "Printable page";
    Print => "인쇄", "Print";
    ExportedTo => "저장 위치", "Saved to";
    ImportCheckpoint => "보관본 체크포인트 가져오기", "Import a kept checkpoint";
    ImportHint => "콘솔 밖에 보관한 체크포인트(서명된 텍스트)를 붙여 넣으세요.", "Paste a checkpoint (signed text) kept outside the console.";
    ImportLabel => "보관 위치 (예: 금고 B 인쇄본)", "Where it was kept (e.g. printed copy, safe B)";
    Import => "가져오기", "Import";
    ReportCsv => "활동 CSV", "Activity CSV";
    ReportHtml => "무결성 보고서", "Integrity report";
    RolloutsBlocked => "배포 차단됨: 관리자가 검증 실패를 확인해야 합니다.", "Rollouts blocked: an admin must acknowledge the failed verification.";
    FirstBad => "첫 손상 항목", "First bad entry";
    AckNote => "무엇이 발견되었고 어떻게 조치하는지 적어 주세요.", "What was found and what is being done about it.";
    Acknowledge => "확인하고 배포 차단 해제", "Acknowledge and unblock rollouts";
    SigningProblem => "서명 불가", "Cannot sign";
    Activity => "활동", "Activity";
    AuditSearch => "내용 검색", "Search entries";
    AllKinds => "모든 종류", "All kinds";
    AllResults => "모든 결과", "All results";
    ActorFilter => "수행자", "Actor";
    ColIndex => "#", "#";
    ColTime => "시각", "Time";
    ColActor => "수행자", "Who";
    ColAction => "행위", "What";
    ColSubject => "대상", "Where";
    ColResult => "결과", "Result";
    ColDetails => "내용", "Details";
    Newer => "← 최신", "← Newest";
    Older => "이전 →", "Older →";
    NoEntries => "조건에 맞는 항목이 없습니다", "No entry matches";
    CheckpointSigned => "체크포인트 서명됨", "Checkpoint signed";
    Acknowledged => "확인됨 — 배포 차단 해제", "Acknowledged — rollouts unblocked";
    AuditHint => "V 검증 · / 검색 · R 새로 고침 · Alt+1–7 구역", "V verify · / search · R refresh · Alt+1–7 sections";
    InventoryTitle => "자산 인벤토리", "Inventory";
    InventorySearch => "서버, 주소, 사이트, 시스템, 기관, 태그 검색", "Search server, address, site, system, institution, tag";
    AllTiers => "전체 등급", "All tiers";
    TierLabel => "등급", "Tier";
    CommandModeLabel => "명령", "Commands";
    CommandModeDenylist => "차단 목록 적용 (즉시 명령 허용)", "Denylist applies (ad-hoc commands allowed)";
    CommandModePlaybookOnly => "플레이북 단계만 실행 (즉시 명령 거부)", "Playbook steps only (ad-hoc commands refused)";
    CommandModeChange => "변경…", "Change…";
    CommandModeScope => "이 시스템의 모든 서버에 적용됩니다:", "Applies to every server of the system";
    CommandModeReason => "사유 (감사 로그에 기록)", "Reason (recorded in the audit log)";
    CommandModeToDenylist => "차단 목록 모드로 전환 (즉시 명령 허용)", "Switch to denylist (allow ad-hoc commands)";
    CommandModeToPlaybookOnly => "플레이북 전용으로 전환 (즉시 명령 거부)", "Switch to playbook-only (refuse ad-hoc commands)";
    ImportChanged => "바뀐 필드", "Changed fields";
    ServerCol => "서버", "Server";
    SiteCol => "시스템 / 사이트", "System / site";
    AddressCol => "접속", "Login";
    PinCol => "호스트 키", "Host key";
    CredentialCol => "자격 증명", "Credential";
    NotPinned => "미고정", "Not pinned";
    Pinned => "고정됨", "Pinned";
    NoCredential => "없음", "Missing";
    CredentialOk => "있음", "Present";
    NoServers => "서버가 없습니다. CSV나 Ansible 인벤토리를 가져오거나 `guardia lab up`으로 실습 사이트를 만드세요.", "No servers. Import a CSV or Ansible inventory, or start a lab with `guardia lab up`.";
    ImportButton => "가져오기", "Import";
    ExportButton => "CSV 내보내기", "Export CSV";
    CredentialsButton => "자격 증명", "Credentials";
    ImportTitle => "인벤토리 가져오기 (전부 또는 전무)", "Import an inventory (all or nothing)";
    InventoryImportHint => "파일 내용을 붙여 넣으세요. 잘못된 행이 하나라도 있으면 아무것도 들어가지 않습니다.", "Paste the file. If any row is wrong, nothing is imported.";
    FormatCsv => "CSV", "CSV";
    FormatAnsible => "Ansible INI", "Ansible INI";
    InstitutionLabel => "기관", "Institution";
    DefaultUserLabel => "기본 사용자", "Default user";
    ImportRun => "가져오기 실행", "Import";
    Imported => "가져옴", "Imported";
    ServerDetail => "서버 상세", "Server";
    CheckNow => "지금 점검 (C)", "Check now (C)";
    Checking => "점검 중…", "Checking…";
    FetchPresented => "서버 키 확인", "Fetch the server's key";
    TrustPresented => "이 지문을 확인했고 신뢰합니다", "I compared this fingerprint: trust it";
    ForgetPin => "고정 해제", "Forget the pin";
    PresentedLabel => "서버가 제시한 키", "The server presents";
    CompareHint => "사이트 담당자와 지문을 비교한 뒤에만 신뢰하세요.", "Trust it only after comparing the fingerprint with the site.";
    ChangedPinWarning => "고정된 키와 다릅니다! 가로채기이거나 서버가 재설치되었을 수 있습니다.", "DIFFERENT from the pinned key! Someone may be intercepting, or the server was reinstalled.";
    HealthCriteria => "상태 점검 기준", "Health criteria";
    StepReachable => "연결", "Reachable";
    StepPin => "호스트 키", "Host key";
    StepAuth => "로그인", "Login";
    StepRemoteStop => "원격 중지", "Remote stop";
    LegacyBadge => "⚠ 레거시 암호", "⚠ Legacy crypto";
    StopNotGuaranteedBadge => "⚠ 원격 중지 보장 안 됨", "⚠ Remote stop not guaranteed";
    SshLabel => "SSH", "SSH";
    LegacyOn => "레거시 암호 허용 (SHA-1 키 교환, ssh-rsa, hmac-sha1, CBC — 이 서버에만, 최신 알고리즘 다음에)", "Legacy algorithms allowed (SHA-1 key exchange, ssh-rsa, hmac-sha1, CBC — this server only, after the modern ones)";
    LegacyOff => "최신 알고리즘만", "Modern algorithms only";
    LegacyAllow => "레거시 허용…", "Allow legacy…";
    LegacyRevoke => "레거시 해제…", "Revoke legacy…";
    LegacyReason => "사유 (감사 로그에 기록, 관리자만)", "Reason (recorded in the audit log; admins only)";
    LegacyApplyOn => "레거시 알고리즘 허용", "Allow legacy algorithms";
    LegacyApplyOff => "최신 알고리즘만 사용", "Use modern algorithms only";
    RemoteStopLabel => "원격 중지", "Remote stop";
    RemoteStopGuaranteed => "보장됨", "guaranteed";
    RemoteStopNotGuaranteed => "보장 안 됨 — 시간 초과·취소·킬 스위치가 하위 프로세스를 멈추지 못할 수 있습니다", "NOT guaranteed — a timeout, Cancel or the kill switch may not stop what a command started";
    RemoteStopUnknown => "아직 점검 안 됨 (점검을 실행하세요)", "not checked yet (run a check)";
    AlgorithmsLabel => "협상된 알고리즘", "Negotiated algorithms";
    StepTcp => "TCP 포트", "TCP port";
    StepHttp => "HTTP 응답", "HTTP answer";
    StepProcess => "프로세스", "Process";
    StepLog => "오류 로그", "Error log";
    StatePass => "통과", "Pass";
    StateFail => "실패", "Fail";
    StateUnknown => "불확실", "Unknown";
    StateSkipped => "건너뜀", "Skipped";
    CredentialsTitle => "자격 증명 (OS 키링)", "Credentials (OS keyring)";
    CredentialsHint => "비밀번호와 개인키는 OS 키링에만 저장되며 다시 표시되지 않습니다.", "Passwords and private keys are kept only in the OS keyring and are never shown again.";
    CredentialName => "이름", "Name";
    CredentialKind => "종류", "Kind";
    KindPassword => "비밀번호", "Password";
    KindPrivate => "개인키 (OpenSSH)", "Private key (OpenSSH)";
    KindTls => "TLS 개인키 (PEM, 인증서 교체용)", "TLS private key (PEM, for certificate rollouts)";
    SecretLabel => "비밀번호 또는 개인키", "Password or private key";
    PassphraseLabel => "개인키 암호문 (있으면)", "Key passphrase (if any)";
    SaveCredential => "키링에 저장", "Store in keyring";
    InKeyring => "키링에 있음", "In keyring";
    MissingFromKeyring => "키링에 없음!", "Missing from keyring!";
    UsedBy => "사용 서버", "Servers";
    Delete => "삭제", "Delete";
    Saved => "저장했습니다", "Saved";
    Edit => "편집", "Edit";
    SaveServer => "서버 저장", "Save server";
    EditHint => "주소나 포트를 바꾸면 호스트 키 고정이 해제됩니다.", "Changing the address or port drops the host-key pin.";
    StatusHint => "N 새 작업 · / 검색 · ↑↓ 이동 · I 내 결재 · S 결재 요청 · A 승인 · B 보완 요청 · X 반려 · Esc 닫기 · Alt+1–7 구역", "N new · / search · ↑↓ move · I needs me · S submit · A approve · B return · X reject · Esc close · Alt+1–7 sections";
    StatusInventory => "/ 검색 · R 새로 고침 · C 서버 점검 · Esc 닫기 · Alt+1–7 구역", "/ search · R refresh · C check server · Esc close · Alt+1–7 sections";
    StatusOther => "Alt+1–7 구역", "Alt+1–7 sections";
    StatusRollouts => "Ctrl+Alt+K 긴급 중지 · 칸을 누르면 사이트 기록 · Alt+1–7 구역", "Ctrl+Alt+K kill switch · click a cell for the site's journal · Alt+1–7 sections";
    LiveOn => "실시간", "Live";
    LiveOff => "실시간 연결 대기", "Waiting for live updates";
    CancelCheck => "점검 취소", "Cancel check";
    CancelVerify => "검증 취소", "Cancel verification";
    StateCancelled => "취소됨", "Cancelled";
    CheckCancelled => "점검이 취소되었습니다. 판정하지 못한 단계는 ‘취소됨’입니다.", "The check was cancelled; steps it could not decide say ‘Cancelled’.";
    JobFailed => "작업을 끝내지 못했습니다", "The job could not finish";
}

/// "3 tasks" / "3건"; a full page says there may be more and how to see them.
pub fn task_count(lang: Lang, n: usize, page_full: bool) -> String {
    match (lang, n, page_full) {
        (Lang::Ko, n, true) => format!("{n}건 이상 — 조건을 좁혀 보세요"),
        (Lang::En, n, true) => format!("{n}+ tasks — narrow the filters"),
        (Lang::Ko, n, false) => format!("{n}건"),
        (Lang::En, 1, false) => "1 task".to_owned(),
        (Lang::En, n, false) => format!("{n} tasks"),
    }
}

pub fn status_label(lang: Lang, status: TaskStatus) -> &'static str {
    let (ko, en) = match status {
        TaskStatus::Received => ("접수", "Received"),
        TaskStatus::PendingApproval => ("승인 대기", "Pending approval"),
        TaskStatus::Returned => ("보완 요청", "Returned for information"),
        TaskStatus::Approved => ("승인됨", "Approved"),
        TaskStatus::InProgress => ("작업 중", "In progress"),
        TaskStatus::PendingReview => ("검토 대기", "Pending review"),
        TaskStatus::ReadyToRollOut => ("배포 준비", "Ready to roll out"),
        TaskStatus::RollingOut => ("배포 중", "Rolling out"),
        TaskStatus::Completed => ("완료", "Completed"),
        TaskStatus::RolledBack => ("롤백됨", "Rolled back"),
        TaskStatus::Failed => ("실패", "Failed"),
        TaskStatus::Halted => ("긴급 중지", "Halted"),
        TaskStatus::Cancelled => ("취소됨", "Cancelled"),
    };
    pick(lang, ko, en)
}

pub fn priority_label(lang: Lang, priority: Priority) -> &'static str {
    let (ko, en) = match priority {
        Priority::Urgent => ("긴급", "Urgent"),
        Priority::High => ("높음", "High"),
        Priority::Normal => ("보통", "Normal"),
        Priority::Low => ("낮음", "Low"),
    };
    pick(lang, ko, en)
}

pub fn category_label(lang: Lang, category: Category) -> &'static str {
    let (ko, en) = match category {
        Category::Deploy => ("배포", "Deploy"),
        Category::InfraControl => ("인프라 제어", "Infra control"),
        Category::Data => ("데이터", "Data"),
        Category::Inspection => ("점검", "Inspection"),
    };
    pick(lang, ko, en)
}

pub fn event_label(lang: Lang, event: TaskEvent) -> &'static str {
    let (ko, en) = match event {
        TaskEvent::Submitted => ("승인 요청", "Submitted for approval"),
        TaskEvent::ChainApproved => ("승인 완료", "Approval chain complete"),
        TaskEvent::RequestRejected => ("승인 반려", "Request rejected"),
        TaskEvent::ReturnedForInfo => ("보완 요청", "Returned for information"),
        TaskEvent::Resubmitted => ("재상신", "Resubmitted"),
        TaskEvent::Cancelled => ("요청 취소", "Cancelled by requester"),
        TaskEvent::WorkStarted => ("작업 시작", "Work started"),
        TaskEvent::ResultImported => ("결과 패키지 수신", "Result package imported"),
        TaskEvent::ReworkRequested => ("재작업 요청", "Rework requested"),
        TaskEvent::ResultApproved => ("결과 승인", "Result approved"),
        TaskEvent::RolloutStarted => ("배포 시작", "Rollout started"),
        TaskEvent::RolloutCompleted => ("배포 완료", "Rollout completed"),
        TaskEvent::RolledBack => ("롤백", "Rolled back"),
        TaskEvent::RolloutFailed => ("배포 실패", "Rollout failed"),
        TaskEvent::Halted => ("긴급 중지", "Halted by kill switch"),
        TaskEvent::RolloutResumed => ("배포 재개", "Rollout resumed"),
    };
    pick(lang, ko, en)
}

/// Labels for the suggested sub-types; others are shown as their code.
pub fn sub_type_label(lang: Lang, code: &str) -> String {
    let known = match code {
        "web-fix" => Some(("웹 페이지 수정", "Web page fix")),
        "artifact-deploy" => Some(("배포물 배포", "Artifact deploy")),
        "config-change" => Some(("설정 변경", "Configuration change")),
        "service-restart" => Some(("서비스 재기동", "Service restart")),
        "certificate-replace" => Some(("SSL 인증서 교체", "SSL certificate replace")),
        "security-change" => Some(("보안 설정 변경", "Security change")),
        "data-fix" => Some(("데이터 정정", "Data fix")),
        "data-cleanup" => Some(("데이터 정리", "Data cleanup")),
        "data-extract" => Some(("데이터 추출", "Data extract")),
        "health-check" => Some(("상태 점검", "Health check")),
        "log-review" => Some(("로그 점검", "Log review")),
        "security-inspection" => Some(("보안 점검", "Security inspection")),
        _ => None,
    };
    match known {
        Some((ko, en)) => pick(lang, ko, en).to_owned(),
        None => code.to_owned(),
    }
}

pub fn problem_text(lang: Lang, problem: Problem) -> String {
    match (problem, lang) {
        (Problem::Required, Lang::Ko) => "필수 항목입니다.".to_owned(),
        (Problem::Required, Lang::En) => "Required.".to_owned(),
        (Problem::TooLong { max }, Lang::Ko) => format!("{max}자 이하로 입력하세요."),
        (Problem::TooLong { max }, Lang::En) => format!("At most {max} characters."),
        (Problem::ControlCharacters, Lang::Ko) => "제어 문자는 쓸 수 없습니다.".to_owned(),
        (Problem::ControlCharacters, Lang::En) => "Control characters are not allowed.".to_owned(),
        (Problem::InvisibleCharacters, Lang::Ko) => {
            "보이지 않거나 글자 방향을 바꾸는 문자(U+202E 등)는 쓸 수 없습니다.".to_owned()
        }
        (Problem::InvisibleCharacters, Lang::En) => {
            "Invisible or direction-changing characters (such as U+202E) are not allowed."
                .to_owned()
        }
        (Problem::NotASlug, Lang::Ko) => {
            "영문 소문자·숫자·하이픈만 (예: service-restart).".to_owned()
        }
        (Problem::NotASlug, Lang::En) => {
            "Lowercase letters, digits and dashes (e.g. service-restart).".to_owned()
        }
        (Problem::NotInInventory, Lang::Ko) => {
            "자산 목록에 없는 시스템입니다. 목록에서 고르거나 먼저 가져오세요.".to_owned()
        }
        (Problem::NotInInventory, Lang::En) => {
            "Not a system of the inventory: pick one, or import it first.".to_owned()
        }
    }
}

pub fn error_headline(lang: Lang, code: ErrorCode) -> &'static str {
    let (ko, en) = match code {
        ErrorCode::InvalidInput => ("입력값을 확인해 주세요", "Please check the input"),
        ErrorCode::NotFound => ("찾을 수 없습니다", "Not found"),
        ErrorCode::Conflict => (
            "다른 곳에서 먼저 변경했습니다. 새로 고친 뒤 다시 시도하세요",
            "It was changed elsewhere first; refresh and try again",
        ),
        ErrorCode::Storage => (
            "데이터베이스 오류 — 결과를 확인하려면 새로 고치세요",
            "Database error — refresh to see what was saved",
        ),
        ErrorCode::Keyring => (
            "OS 키링을 사용할 수 없습니다 — 서명되지 않았습니다",
            "The OS keyring is not available — nothing was signed",
        ),
        ErrorCode::IntegrityBlocked => (
            "감사 로그 검증 실패가 확인되지 않아 차단되었습니다",
            "Blocked: a failed audit verification has not been acknowledged",
        ),
        ErrorCode::Ssh => (
            "원격 서버 작업 실패 — 결과가 불확실하면 확인 후 다시 시도하세요",
            "The remote step failed — if its outcome is unknown, check before retrying",
        ),
        ErrorCode::CommandRefused => (
            "금지된 명령이라 보내지 않았습니다",
            "Refused by the command denylist — nothing was sent",
        ),
        ErrorCode::Protocol => ("콘솔 내부 통신 오류", "Console communication error"),
        ErrorCode::Forbidden => ("권한이 없습니다", "Not permitted"),
        ErrorCode::SignIn => (
            "로그인할 수 없습니다 — 이름과 비밀번호를 확인하거나 관리자에게 문의하세요",
            "Sign-in refused — check the name and password, or ask an admin",
        ),
        ErrorCode::Cancelled => ("취소되었습니다", "Cancelled"),
        ErrorCode::Stopped => (
            "자동화가 중지되어 새 작업을 시작할 수 없습니다",
            "Automation is stopped; nothing new starts",
        ),
        ErrorCode::PackageRefused => ("패키지가 거부되었습니다", "Package refused"),
        ErrorCode::Internal => ("예상하지 못한 오류", "Unexpected error"),
    };
    pick(lang, ko, en)
}

fn pick(lang: Lang, ko: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ko => ko,
        Lang::En => en,
    }
}
