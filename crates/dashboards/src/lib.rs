#![doc = include_str!("../README.md")]

mod error;
mod model;
mod ports;
mod service;

pub use error::DashboardsError;
pub use model::{
    AdminDashboard, AgeBuckets, ApprovalQueue, Conversion, CsoDashboard, CustomerDashboard,
    Dashboard, DashboardSnapshot, DayRevenue, DeliveryHealth, ManagerDashboard, OfficerThroughput,
    QueuedResponse, RecentDownload, Refunds, Sales, StatusCount, TopProduct,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockDashboardReader;
pub use ports::{CsoQuery, DashboardReader};
pub use service::{
    APPROVAL_QUEUE_SHOWN, DashboardService, RECENT_DOWNLOADS, TOP_PRODUCTS, WINDOW_DAYS,
};
