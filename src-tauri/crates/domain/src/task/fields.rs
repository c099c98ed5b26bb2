//! The validated fields of a task request, and the one place raw input becomes them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// What kind of work a task asks for. Drives risk, and so the approval chain (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Category {
    Deploy,
    InfraControl,
    Data,
    Inspection,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Deploy,
        Category::InfraControl,
        Category::Data,
        Category::Inspection,
    ];

    /// The wire and database spelling, e.g. `INFRA_CONTROL`.
    pub fn code(self) -> &'static str {
        match self {
            Category::Deploy => "DEPLOY",
            Category::InfraControl => "INFRA_CONTROL",
            Category::Data => "DATA",
            Category::Inspection => "INSPECTION",
        }
    }

    /// Sub-types people usually pick for this category. Others are allowed (they are data
    /// an admin may extend), these are what the form offers.
    pub fn suggested_sub_types(self) -> &'static [&'static str] {
        match self {
            Category::Deploy => &["web-fix", "artifact-deploy", "config-change"],
            Category::InfraControl => {
                &["service-restart", "certificate-replace", "security-change"]
            }
            Category::Data => &["data-fix", "data-cleanup", "data-extract"],
            Category::Inspection => &["health-check", "log-review", "security-inspection"],
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// How soon a task should be handled: orders inboxes and queues (urgent first).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// 긴급
    Urgent,
    /// 높음
    High,
    /// 보통
    #[default]
    Normal,
    /// 낮음
    Low,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Urgent,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ];

    /// The wire and database spelling, e.g. `urgent`.
    pub fn code(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    /// As stored, or as typed (`URGENT`, `긴급`).
    pub fn parse(raw: &str) -> Option<Priority> {
        let raw = raw.trim().to_ascii_lowercase();
        Priority::ALL.into_iter().find(|p| {
            p.code() == raw
                || matches!(
                    (p, raw.as_str()),
                    (Priority::Urgent, "긴급")
                        | (Priority::High, "높음")
                        | (Priority::Normal, "보통")
                        | (Priority::Low, "낮음")
                )
        })
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a string is not a category.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category `{0}`; expected DEPLOY, INFRA_CONTROL, DATA or INSPECTION")]
pub struct UnknownCategory(String);

impl FromStr for Category {
    type Err = UnknownCategory;

    /// Case-insensitive, `-` or `_`: people type `infra-control` at a prompt.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let wanted = raw.trim().to_ascii_uppercase().replace('-', "_");
        Category::ALL
            .into_iter()
            .find(|c| c.code() == wanted)
            .ok_or_else(|| UnknownCategory(raw.chars().take(40).collect()))
    }
}

/// The form field a validation problem belongs to, so the UI can show it in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Title,
    Category,
    SubType,
    System,
    Request,
    Requester,
}

impl Field {
    pub fn code(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Category => "category",
            Field::SubType => "sub_type",
            Field::System => "system",
            Field::Request => "request",
            Field::Requester => "requester",
        }
    }
}

/// What is wrong with a field's value. The UI turns these into Korean or English text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// Empty, or only blanks.
    Required,
    /// Longer than `max` characters.
    TooLong { max: usize },
    /// Contains control characters (only newlines and tabs are allowed in the request).
    ControlCharacters,
    /// Contains a character a reader cannot see (direction override, zero-width, …).
    InvisibleCharacters,
    /// A sub-type is lowercase letters, digits and inner dashes, such as `service-restart`.
    NotASlug,
    /// The target system is not one the inventory holds.
    NotInInventory,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Required => f.write_str("is required"),
            Problem::TooLong { max } => write!(f, "is longer than {max} characters"),
            Problem::ControlCharacters => f.write_str("contains control characters"),
            Problem::InvisibleCharacters => f.write_str(
                "contains an invisible or direction-changing character (such as U+202E)",
            ),
            Problem::NotASlug => f.write_str("must look like `service-restart`"),
            Problem::NotInInventory => {
                f.write_str("is not a system of the inventory (pick one, or import it first)")
            }
        }
    }
}

/// One field's problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: Field,
    #[serde(flatten)]
    pub problem: Problem,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field.code(), self.problem)
    }
}

/// Checks shared by the single-line text fields: trimmed, non-empty, bounded, printable.
fn single_line(field: Field, raw: &str, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    let problem = if value.is_empty() {
        Some(Problem::Required)
    } else if value.chars().count() > max {
        Some(Problem::TooLong { max })
    } else if value.chars().any(char::is_control) {
        Some(Problem::ControlCharacters)
    } else if crate::text::find_invisible(value).is_some() {
        Some(Problem::InvisibleCharacters)
    } else {
        None
    };
    match problem {
        Some(problem) => Err(FieldError { field, problem }),
        None => Ok(value.to_owned()),
    }
}

/// Declares a validated single-line text newtype. They differ only in field and length.
macro_rules! single_line_text {
    ($(#[$doc:meta])* $name:ident, $field:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, FieldError> {
                single_line($field, raw, Self::MAX_CHARS).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        // Deserialising re-validates: a value read back from the database or the wire is
        // held to the same rules as one typed into the form.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

single_line_text!(
    /// A task's one-line title, e.g. "민원포털 메인 배너 교체".
    Title,
    Field::Title,
    120
);
single_line_text!(
    /// The system the task targets, e.g. "hr-portal". Becomes a reference into the
    /// inventory once the inventory exists.
    SystemName,
    Field::System,
    80
);
single_line_text!(
    /// A person as named in the control room (requester, approver, operator).
    PersonName,
    Field::Requester,
    64
);

/// A task's sub-type, such as `service-restart`: lowercase letters, digits, inner dashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SubType(String);

impl SubType {
    pub const MAX_CHARS: usize = 40;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = single_line(Field::SubType, raw, Self::MAX_CHARS)?;
        let slug = value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !value.starts_with('-')
            && !value.ends_with('-');
        if slug {
            Ok(Self(value))
        } else {
            Err(FieldError {
                field: Field::SubType,
                problem: Problem::NotASlug,
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SubType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SubType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The free-text request: what should be done and why. May be empty when the title says it
/// all; newlines and tabs are kept, other control characters are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RequestText(String);

impl RequestText {
    pub const MAX_CHARS: usize = 20_000;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.replace("\r\n", "\n");
        let value = value.trim();
        let problem = if value.chars().count() > Self::MAX_CHARS {
            Some(Problem::TooLong {
                max: Self::MAX_CHARS,
            })
        } else if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            Some(Problem::ControlCharacters)
        } else {
            None
        };
        match problem {
            Some(problem) => Err(FieldError {
                field: Field::Request,
                problem,
            }),
            None => Ok(Self(value.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for RequestText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A task request as typed: raw strings from the form, the CLI or IPC. Nothing here is
/// trusted until [`TaskDraft::validate`] turns it into a [`NewTask`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskDraft {
    pub title: String,
    pub category: Option<Category>,
    /// Empty means "not specified"; approval routing then treats the task as the riskiest
    /// sub-type of its category (fail closed).
    pub sub_type: String,
    pub system: String,
    pub request: String,
    pub requester: String,
    /// `None`: normal.
    pub priority: Option<Priority>,
}

/// A request that passed validation and may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: Title,
    pub category: Category,
    pub sub_type: Option<SubType>,
    pub system: SystemName,
    pub request: RequestText,
    pub requester: PersonName,
    pub priority: Priority,
}

impl TaskDraft {
    /// Validates every field and reports *all* problems at once, in form order, so a person
    /// fixes the form in one pass instead of one error at a time.
    pub fn validate(&self) -> Result<NewTask, Vec<FieldError>> {
        fn keep<T>(errors: &mut Vec<FieldError>, result: Result<T, FieldError>) -> Option<T> {
            result.map_err(|error| errors.push(error)).ok()
        }
        let mut errors = Vec::new();
        let title = keep(&mut errors, Title::parse(&self.title));
        let category = keep(
            &mut errors,
            self.category.ok_or(FieldError {
                field: Field::Category,
                problem: Problem::Required,
            }),
        );
        let sub_type = if self.sub_type.trim().is_empty() {
            Some(None)
        } else {
            keep(&mut errors, SubType::parse(&self.sub_type).map(Some))
        };
        let system = keep(&mut errors, SystemName::parse(&self.system));
        let request = keep(&mut errors, RequestText::parse(&self.request));
        let requester = keep(&mut errors, PersonName::parse(&self.requester));

        match (title, category, sub_type, system, request, requester) {
            (
                Some(title),
                Some(category),
                Some(sub_type),
                Some(system),
                Some(request),
                Some(requester),
            ) => Ok(NewTask {
                title,
                category,
                sub_type,
                system,
                request,
                requester,
                priority: self.priority.unwrap_or_default(),
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> TaskDraft {
        TaskDraft {
            title: "  민원포털 배너 교체 ".into(),
            category: Some(Category::Deploy),
            sub_type: "web-fix".into(),
            system: "minwon-portal".into(),
            request: "메인 배너 이미지를 교체해 주세요.\r\n담당: 홍길동".into(),
            requester: "hong".into(),
            priority: None,
        }
    }

    #[test]
    fn valid_draft_becomes_a_trimmed_new_task() {
        let task = draft().validate().unwrap();
        assert_eq!(task.title.as_str(), "민원포털 배너 교체");
        assert_eq!(task.sub_type.unwrap().as_str(), "web-fix");
        assert_eq!(
            task.request.as_str(),
            "메인 배너 이미지를 교체해 주세요.\n담당: 홍길동"
        );
    }

    #[test]
    fn empty_draft_reports_every_required_field_in_form_order() {
        let errors = TaskDraft::default().validate().unwrap_err();
        let fields: Vec<Field> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                Field::Title,
                Field::Category,
                Field::System,
                Field::Requester
            ]
        );
        assert!(errors.iter().all(|e| e.problem == Problem::Required));
    }

    #[test]
    fn sub_type_and_request_may_be_left_empty() {
        let task = TaskDraft {
            sub_type: "   ".into(),
            request: String::new(),
            ..draft()
        }
        .validate()
        .unwrap();
        assert_eq!(task.sub_type, None);
        assert_eq!(task.request.as_str(), "");
    }

    #[test]
    fn title_longer_than_limit_is_refused_counting_characters_not_bytes() {
        let exactly = "가".repeat(Title::MAX_CHARS);
        assert!(Title::parse(&exactly).is_ok(), "120 Hangul chars must fit");
        let err = Title::parse(&format!("{exactly}가")).unwrap_err();
        assert_eq!(err.problem, Problem::TooLong { max: 120 });
    }

    #[test]
    fn control_characters_are_refused_except_newlines_in_the_request() {
        assert_eq!(
            Title::parse("a\u{1b}[31mred").unwrap_err().problem,
            Problem::ControlCharacters
        );
        assert_eq!(
            SystemName::parse("a\nb").unwrap_err().problem,
            Problem::ControlCharacters
        );
        assert!(RequestText::parse("line1\n\tline2").is_ok());
        assert_eq!(
            RequestText::parse("bell\u{7}").unwrap_err().problem,
            Problem::ControlCharacters
        );
    }

    #[test]
    fn sub_type_must_be_a_slug() {
        for bad in ["Service Restart", "-restart", "restart-", "재시작", "a_b"] {
            assert_eq!(
                SubType::parse(bad).unwrap_err().problem,
                Problem::NotASlug,
                "{bad}"
            );
        }
        assert!(SubType::parse("certificate-replace").is_ok());
    }

    #[test]
    fn category_parses_the_way_people_type_it() {
        assert_eq!(
            "infra-control".parse::<Category>().unwrap(),
            Category::InfraControl
        );
        assert_eq!(" DATA ".parse::<Category>().unwrap(), Category::Data);
        let err = "DEPLOYMENT".parse::<Category>().unwrap_err();
        assert!(err.to_string().contains("expected DEPLOY"));
    }

    #[test]
    fn every_suggested_sub_type_is_itself_valid() {
        for category in Category::ALL {
            for sub_type in category.suggested_sub_types() {
                assert!(SubType::parse(sub_type).is_ok(), "{category}: {sub_type}");
            }
        }
    }

    #[test]
    fn field_errors_serialise_flat_for_the_ui() {
        let error = FieldError {
            field: Field::Title,
            problem: Problem::TooLong { max: 120 },
        };
        assert_eq!(
            serde_json::to_value(error).unwrap(),
            serde_json::json!({"field": "title", "problem": "too_long", "max": 120})
        );
    }

    #[test]
    fn deserialising_a_title_revalidates_it() {
        assert!(serde_json::from_str::<Title>("\"ok\"").is_ok());
        assert!(serde_json::from_str::<Title>("\"  \"").is_err());
    }
}
