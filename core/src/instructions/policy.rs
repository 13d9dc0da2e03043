//! `ASSIGNMENT_INSTRUCTION`: which instruction, if any, answers each assignment callback.
//!
//! - unset: `{}` for every reservation (deferred to the REST API);
//! - one instruction (`{"instruction":"accept"}`): that instruction for every reservation;
//! - a list of rules (`[{"when":{…},"answer":{…}}, …]`): the first rule whose conditions all hold
//!   gives the answer; no match answers `{}`. An `answer` of `{}` defers explicitly.
//!
//! A condition names what it tests: `task.<path>` (a task attribute; a dotted path reaches into
//! objects), `task_queue_sid` or `workflow_sid`; and how: a plain value (equal to it),
//! `{"in":[…]}` (equal to one of them) or `{"present":true|false}`. No code runs.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::instruction::{Instruction, InstructionError};
use super::template::{self, RenderError, TemplateData, TemplateError};
use crate::models::{AnswerSummary, Attributes};
use crate::twilio::FormParams;

#[derive(Debug, Clone, PartialEq)]
pub enum Policy {
    Defer,
    Always(RuleAnswer),
    Rules(Vec<Rule>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum RuleAnswer {
    Defer,
    Instruction(Instruction),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    conditions: Vec<Condition>,
    answer: RuleAnswer,
}

#[derive(Debug, Clone, PartialEq)]
enum Subject {
    TaskAttribute(Vec<String>),
    Parameter(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Equals(Value),
    In(Vec<Value>),
    Present(bool),
}

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    subject: Subject,
    test: Test,
}

/// What the policy gives for one reservation: the exact body to answer, what to record, and the
/// status TaskRouter gives the reservation as soon as it takes the answer, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyChoice {
    pub body: String,
    pub answered: AnswerSummary,
    pub settles: Option<crate::models::Status>,
}

/// What the policy looks at.
pub struct TaskContext<'a> {
    pub params: &'a FormParams,
    pub task: Option<&'a Attributes>,
    pub worker: Option<&'a Attributes>,
}

/// Where in the variable a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The variable is one instruction.
    TheInstruction,
    /// A rule's answer, counted from 1.
    AnswerOf(usize),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::TheInstruction => f.write_str("the instruction"),
            Place::AnswerOf(rule) => write!(f, "rule {rule}'s answer"),
        }
    }
}

/// What is wrong with `ASSIGNMENT_INSTRUCTION`, and where (rules counted from 1).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("not valid JSON ({0})")]
    NotJson(String),
    #[error("must be an instruction object or a list of rules")]
    NeitherInstructionNorRules,
    /// serde's words for a rule that is not `{"when":{…},"answer":{…}}`.
    #[error("rule {rule}: {problem}")]
    RuleShape { rule: usize, problem: String },
    #[error("{0} must be an instruction object such as {{\"instruction\":\"accept\"}}, or {{}} to defer")]
    NotAnAnswer(Place),
    #[error("{place}: {problem}")]
    Instruction { place: Place, problem: InstructionError },
    #[error("{place}: {problem}")]
    Template { place: Place, problem: TemplateError },
    #[error("rule {rule} tests {name:?}: use task.<attribute>, task_queue_sid or workflow_sid")]
    UnknownSubject { rule: usize, name: String },
    #[error(
        "rule {rule}'s condition on {name}: use a value, {{\"equals\":…}}, {{\"in\":[…]}} or {{\"present\":true|false}} ({problem})"
    )]
    UnknownTest { rule: usize, name: String, problem: String },
}

/// A rule as written; serde refuses any other key, and a rule without an answer.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object with \"when\" and \"answer\"")]
struct WrittenRule {
    #[serde(default)]
    when: Map<String, Value>,
    answer: Value,
}

/// A test written as an object: `{"in":[…]}`, `{"present":bool}` or `{"equals":…}`.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum WrittenTest {
    In(Vec<Value>),
    Present(bool),
    Equals(Value),
}

fn parse_answer(value: &Value, place: Place) -> Result<RuleAnswer, PolicyError> {
    match value {
        Value::Object(map) if map.is_empty() => Ok(RuleAnswer::Defer),
        Value::Object(map) if map.contains_key("instruction") => {
            template::check(value).map_err(|problem| PolicyError::Template { place, problem })?;
            Instruction::read(map)
                .map(RuleAnswer::Instruction)
                .map_err(|problem| PolicyError::Instruction { place, problem })
        }
        _ => Err(PolicyError::NotAnAnswer(place)),
    }
}

fn parse_subject(name: &str) -> Option<Subject> {
    match name {
        "task_queue_sid" => Some(Subject::Parameter("TaskQueueSid")),
        "workflow_sid" => Some(Subject::Parameter("WorkflowSid")),
        _ => {
            let path = name.strip_prefix("task.")?;
            let steps: Vec<String> = path.split('.').map(str::to_owned).collect();
            steps.iter().all(|step| !step.is_empty()).then_some(Subject::TaskAttribute(steps))
        }
    }
}

/// A plain value is an equality test; an object names its test.
fn parse_test(value: &Value) -> Result<Test, serde_json::Error> {
    if !value.is_object() {
        return Ok(Test::Equals(value.clone()));
    }
    Ok(match WrittenTest::deserialize(value)? {
        WrittenTest::In(options) => Test::In(options),
        WrittenTest::Present(present) => Test::Present(present),
        WrittenTest::Equals(expected) => Test::Equals(expected),
    })
}

fn parse_rule(index: usize, value: &Value) -> Result<Rule, PolicyError> {
    let rule = index + 1;
    let written =
        WrittenRule::deserialize(value).map_err(|error| PolicyError::RuleShape { rule, problem: error.to_string() })?;
    let answer = parse_answer(&written.answer, Place::AnswerOf(rule))?;
    let conditions = written
        .when
        .iter()
        .map(|(name, test)| {
            let subject =
                parse_subject(name).ok_or_else(|| PolicyError::UnknownSubject { rule, name: name.clone() })?;
            let test = parse_test(test).map_err(|error| PolicyError::UnknownTest {
                rule,
                name: name.clone(),
                problem: error.to_string(),
            })?;
            Ok(Condition { subject, test })
        })
        .collect::<Result<_, PolicyError>>()?;
    Ok(Rule { conditions, answer })
}

impl Policy {
    /// Reads the variable's text (`None` when unset). The error says what is wrong and where.
    pub fn parse(text: Option<&str>) -> Result<Policy, PolicyError> {
        let Some(text) = text else { return Ok(Policy::Defer) };
        let value: Value = serde_json::from_str(text).map_err(|error| PolicyError::NotJson(error.to_string()))?;
        match &value {
            Value::Array(rules) => rules
                .iter()
                .enumerate()
                .map(|(i, rule)| parse_rule(i, rule))
                .collect::<Result<_, _>>()
                .map(Policy::Rules),
            Value::Object(_) => parse_answer(&value, Place::TheInstruction).map(Policy::Always),
            _ => Err(PolicyError::NeitherInstructionNorRules),
        }
    }

    pub fn decide(&self, context: &TaskContext) -> PolicyChoice {
        let (answer, rule) = match self {
            Policy::Defer => (&RuleAnswer::Defer, None),
            Policy::Always(answer) => (answer, None),
            Policy::Rules(rules) => match rules.iter().position(|rule| rule.matches(context)) {
                Some(index) => (&rules[index].answer, Some(index + 1)),
                None => (&RuleAnswer::Defer, None),
            },
        };
        match answer {
            RuleAnswer::Defer => PolicyChoice::deferred(rule, None),
            RuleAnswer::Instruction(instruction) => match rendered(instruction, context) {
                Ok(body) => PolicyChoice {
                    body,
                    answered: AnswerSummary { instruction: Some(instruction.name().to_owned()), rule, note: None },
                    settles: instruction.settles(),
                },
                Err(missing) => {
                    PolicyChoice::deferred(rule, Some(format!("{} not given: {missing}", instruction.name())))
                }
            },
        }
    }
}

fn rendered(instruction: &Instruction, context: &TaskContext) -> Result<String, RenderError> {
    let mut value = instruction.to_value();
    template::render(&mut value, &TemplateData { task: context.task, worker: context.worker, params: context.params })?;
    Ok(value.to_string())
}

impl PolicyChoice {
    fn deferred(rule: Option<usize>, note: Option<String>) -> PolicyChoice {
        PolicyChoice { body: "{}".to_owned(), answered: AnswerSummary { instruction: None, rule, note }, settles: None }
    }
}

impl Rule {
    fn matches(&self, context: &TaskContext) -> bool {
        self.conditions.iter().all(|condition| condition.holds(context))
    }
}

impl Condition {
    fn holds(&self, context: &TaskContext) -> bool {
        let found: Option<Value> = match &self.subject {
            Subject::Parameter(name) => context.params.get(name).map(|v| Value::String(v.to_owned())),
            Subject::TaskAttribute(path) => context.task.and_then(|task| task.value_at(path)),
        };
        match (&self.test, found) {
            (Test::Present(wanted), found) => found.is_some() == *wanted,
            (Test::Equals(expected), Some(found)) => found == *expected,
            (Test::In(options), Some(found)) => options.contains(&found),
            (_, None) => false,
        }
    }
}

/// For `/health`: a short description of the policy in force.
#[derive(Debug, Serialize)]
pub struct PolicySummary {
    pub mode: &'static str,
    pub rules: usize,
}

impl Policy {
    pub fn summary(&self) -> PolicySummary {
        match self {
            Policy::Defer => PolicySummary { mode: "defer", rules: 0 },
            Policy::Always(_) => PolicySummary { mode: "always", rules: 0 },
            Policy::Rules(rules) => PolicySummary { mode: "rules", rules: rules.len() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decide(policy: &str, task: Option<Value>, params: &[(&str, &str)]) -> PolicyChoice {
        let params = FormParams::from_pairs(params.iter().copied());
        let task = task.map(|t| Attributes::parse(&t.to_string()));
        Policy::parse(Some(policy)).unwrap().decide(&TaskContext { params: &params, task: task.as_ref(), worker: None })
    }

    const RULES: &str = r#"[
        {"when": {"task.vip": true}, "answer": {"instruction": "accept"}},
        {"when": {"task.type": "voice", "task.language": {"in": ["en", "es"]}},
         "answer": {"instruction": "dequeue", "from": "+14155550100", "to": "{{task.to}}"}},
        {"when": {"task.spam": {"present": true}}, "answer": {"instruction": "reject"}},
        {"when": {"task_queue_sid": "WQ1"}, "answer": {}},
        {"when": {"workflow_sid": "WW1"}, "answer": {"instruction": "conference", "from": "+14155550100"}}
    ]"#;

    #[test]
    fn unset_defers_everything() {
        let params = FormParams::default();
        let decision = Policy::parse(None).unwrap().decide(&TaskContext { params: &params, task: None, worker: None });
        assert_eq!(decision.body, "{}");
        assert_eq!(decision.answered, AnswerSummary { instruction: None, rule: None, note: None });
    }

    #[test]
    fn one_instruction_answers_every_reservation() {
        let decision = decide(r#"{"instruction":"accept"}"#, None, &[]);
        assert_eq!(decision.body, r#"{"instruction":"accept"}"#);
        assert_eq!(decision.answered.instruction.as_deref(), Some("accept"));
    }

    #[test]
    fn the_first_matching_rule_wins() {
        let both =
            decide(RULES, Some(json!({"vip": true, "type": "voice", "language": "en", "to": "client:bob"})), &[]);
        assert_eq!(both.body, r#"{"instruction":"accept"}"#);
        assert_eq!(both.answered.rule, Some(1));
        let voice = decide(RULES, Some(json!({"type": "voice", "language": "es", "to": "client:bob"})), &[]);
        assert_eq!(voice.body, r#"{"from":"+14155550100","instruction":"dequeue","to":"client:bob"}"#);
        assert_eq!(voice.answered.rule, Some(2));
    }

    #[test]
    fn membership_presence_and_sids() {
        assert_eq!(decide(RULES, Some(json!({"type": "voice", "language": "fr"})), &[]).body, "{}");
        assert_eq!(decide(RULES, Some(json!({"spam": false})), &[]).answered.instruction.as_deref(), Some("reject"));
        let deferred = decide(RULES, Some(json!({})), &[("TaskQueueSid", "WQ1"), ("WorkflowSid", "WW1")]);
        assert_eq!((deferred.body.as_str(), deferred.answered.rule), ("{}", Some(4)));
        let conference = decide(RULES, Some(json!({})), &[("WorkflowSid", "WW1")]);
        assert_eq!(conference.body, r#"{"from":"+14155550100","instruction":"conference"}"#);
    }

    #[test]
    fn no_match_defers() {
        let decision = decide(RULES, Some(json!({"type": "chat"})), &[("WorkflowSid", "WW2")]);
        assert_eq!(decision.body, "{}");
        assert_eq!(decision.answered, AnswerSummary { instruction: None, rule: None, note: None });
    }

    #[test]
    fn a_missing_attribute_does_not_match_equality_or_membership() {
        assert_eq!(decide(RULES, Some(json!({"language": "en"})), &[]).body, "{}");
        let absent = decide(
            r#"[{"when": {"task.vip": {"present": false}}, "answer": {"instruction": "accept"}}]"#,
            Some(json!({})),
            &[],
        );
        assert_eq!(absent.answered.instruction.as_deref(), Some("accept"));
        let nested = r#"[{"when": {"task.caller.tier": "gold"}, "answer": {"instruction": "accept"}}]"#;
        assert_eq!(decide(nested, Some(json!({"caller": {"tier": "gold"}})), &[]).answered.rule, Some(1));
        assert_eq!(decide(nested, Some(json!({"caller": "gold"})), &[]).body, "{}");
    }

    #[test]
    fn attributes_that_are_not_json_match_nothing_but_absence() {
        assert_eq!(decide(RULES, None, &[]).body, "{}");
        let absent =
            decide(r#"[{"when": {"task.vip": {"present": false}}, "answer": {"instruction": "accept"}}]"#, None, &[]);
        assert_eq!(absent.answered.instruction.as_deref(), Some("accept"));
    }

    #[test]
    fn a_placeholder_without_a_value_defers_and_says_why() {
        let decision = decide(RULES, Some(json!({"type": "voice", "language": "en"})), &[]);
        assert_eq!(decision.body, "{}");
        assert_eq!(decision.answered.rule, Some(2));
        assert_eq!(
            decision.answered.note.as_deref(),
            Some("dequeue not given: {{task.to}} has no value for this reservation")
        );
    }

    #[test]
    fn bad_configurations_say_what_is_wrong() {
        for (text, expected) in [
            ("accept", "not valid JSON"),
            (r#""accept""#, "must be an instruction object or a list of rules"),
            (r#"{"instruction":"transfer"}"#, "unknown instruction `transfer`"),
            (r#"{"instruction":"call","from":"+1"}"#, "missing field `url`"),
            (r#"{"instruction":"dequeue","from":"{{caller}}"}"#, "placeholder {{caller}} must be"),
            (r#"{"type":"accept"}"#, "must be an instruction object"),
            (
                r#"[{"answer":{"instruction":"accept"},"if":{}}]"#,
                "rule 1: unknown field `if`, expected `when` or `answer`",
            ),
            (r#"[{"when":{}}]"#, "rule 1: missing field `answer`"),
            // serde's words for the number vary with serde_json's features (the CLI turns on
            // arbitrary_precision); what is expected does not.
            (r#"[1]"#, "expected an object with \"when\" and \"answer\""),
            (r#"[{"when":[],"answer":{}}]"#, "rule 1: invalid type: sequence, expected a map"),
            (r#"[{"when":{"task.a":{"in":[1],"present":true}},"answer":{}}]"#, "rule 1's condition on task.a"),
            (r#"[{"when":{"queue":"WQ1"},"answer":{}}]"#, "rule 1 tests \"queue\""),
            (r#"[{"when":{"task.a":{"in":1}},"answer":{}}]"#, "rule 1's condition on task.a"),
            (r#"[{"when":{"task.a":{"regex":"x"}},"answer":{}}]"#, "rule 1's condition on task.a"),
            (
                r#"[{"answer":{}},{"answer":{"instruction":"redirect","url":"https://e.com"}}]"#,
                "rule 2's answer: missing field `call_sid`",
            ),
        ] {
            let err = Policy::parse(Some(text)).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
