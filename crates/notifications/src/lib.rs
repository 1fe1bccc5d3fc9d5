#![doc = include_str!("../README.md")]

mod admin;
mod error;
mod job;
mod mail;
mod ports;
mod runner;

pub use admin::JobAdminService;
pub use error::{MailError, NotificationsError};
pub use job::{Job, JobKind, JobPayload, JobState, NewJob, UnknownJobKind, UnknownJobState};
pub use mail::{EmailMessage, EmailTemplate, RenderedEmail};
pub use nexus_outbox::RetryPolicy;
pub use ports::{EmailRenderer, JobFilter, JobStore, Mailer};
#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockEmailRenderer, MockJobStore, MockMailer};
#[cfg(any(test, feature = "mocks"))]
pub use runner::MockJobHandler;
pub use runner::{JobError, JobHandler, JobRunner, RunnerConfig};
