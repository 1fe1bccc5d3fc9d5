//! What buyers did that no order row keeps: downloads of purchased files and payment
//! attempts the gateway reported as failed. Both are written within a unit of work
//! (`OrdersTx::activity`) and read by the customer timeline and the dashboards.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_kernel::UserId;

use crate::{OrderId, OrdersError};

/// The longest gateway error code kept, in characters (Razorpay's are short constants such
/// as `BAD_REQUEST_ERROR`).
pub const MAX_ERROR_CODE_CHARS: usize = 100;
/// The longest gateway error description kept, in characters.
pub const MAX_ERROR_DESCRIPTION_CHARS: usize = 500;

/// A download link issued to the owner of a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// Who downloaded.
    pub user_id: UserId,
    /// What.
    pub product_id: ProductId,
    /// When the link was issued.
    pub at: DateTime<Utc>,
}

/// A payment attempt on an order that the gateway reported as failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFailure {
    /// The order the attempt was for.
    pub order_id: OrderId,
    /// The gateway's payment id of the attempt.
    pub payment_id: String,
    /// The gateway's error code, if any, cut to [`MAX_ERROR_CODE_CHARS`].
    pub error_code: Option<String>,
    /// The gateway's error description, if any, cut to [`MAX_ERROR_DESCRIPTION_CHARS`].
    pub error_description: Option<String>,
    /// When the failure was recorded.
    pub at: DateTime<Utc>,
}

impl PaymentFailure {
    /// A failure of `payment_id` on `order_id` at `at`, keeping at most the allowed length
    /// of the gateway's texts (blank ones become `None`).
    #[must_use]
    pub fn new(
        order_id: OrderId,
        payment_id: &str,
        error_code: Option<&str>,
        error_description: Option<&str>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            order_id,
            payment_id: payment_id.to_owned(),
            error_code: cut(error_code, MAX_ERROR_CODE_CHARS),
            error_description: cut(error_description, MAX_ERROR_DESCRIPTION_CHARS),
            at,
        }
    }
}

fn cut(text: Option<&str>, max: usize) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(max).collect())
}

/// Records buyers' downloads and failed payment attempts within a unit of work.
/// Implementations return only `Unexpected` for failures.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BuyerActivityLog: Send + Sync {
    /// Records one download.
    async fn record_download(&self, download: &Download) -> Result<(), OrdersError>;

    /// Records one failed payment attempt.
    async fn record_payment_failure(&self, failure: &PaymentFailure) -> Result<(), OrdersError>;
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn gateway_texts_are_trimmed_cut_and_blank_ones_dropped() {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        let long = "x".repeat(MAX_ERROR_DESCRIPTION_CHARS + 10);

        let failure = PaymentFailure::new(OrderId::new(), "pay_1", Some("  "), Some(&long), at);

        assert_eq!(failure.error_code, None);
        assert_eq!(
            failure.error_description.map(|d| d.chars().count()),
            Some(MAX_ERROR_DESCRIPTION_CHARS)
        );
        let coded = PaymentFailure::new(OrderId::new(), "pay_1", Some(" BAD "), None, at);
        assert_eq!(coded.error_code.as_deref(), Some("BAD"));
        assert_eq!(coded.error_description, None);
    }
}
