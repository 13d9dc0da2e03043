//! Assignment instructions: what the callback answers, chosen by `ASSIGNMENT_INSTRUCTION`.

pub mod instruction;
pub mod policy;
pub mod template;

pub use instruction::Instruction;
pub use policy::{Policy, PolicyChoice, TaskContext};
