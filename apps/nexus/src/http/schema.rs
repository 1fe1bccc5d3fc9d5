//! Documentation-only schemas: the closed sets of values some string fields take, and the
//! text rules of the domain's value types, so the OpenAPI document states exactly what the
//! API accepts. Handlers still parse the strings through the domain types; these enums are
//! named in `#[schema(value_type = ...)]` and `#[param(value_type = ...)]` only.

use utoipa::ToSchema;

macro_rules! doc_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[doc = concat!("`", $wire, "`")] #[schema(rename = $wire)] $variant),+
        }
    };
}

doc_enum!(
    /// What a one-time code is for.
    OtpPurposeDto { VerifyEmail = "VERIFY_EMAIL", Login = "LOGIN" }
);
doc_enum!(
    /// A customer's life-cycle status.
    CustomerStatusDto { Lead = "LEAD", Active = "ACTIVE", Inactive = "INACTIVE", Churned = "CHURNED" }
);
doc_enum!(
    /// An enquiry's status.
    EnquiryStatusDto { Open = "OPEN", Answered = "ANSWERED", Closed = "CLOSED" }
);
doc_enum!(
    /// A staff response's approval state.
    ResponseStatusDto {
        Draft = "DRAFT",
        PendingApproval = "PENDING_APPROVAL",
        Approved = "APPROVED",
        Sent = "SENT",
        Rejected = "REJECTED",
    }
);
doc_enum!(
    /// A product's catalog state.
    ProductStatusDto { Draft = "DRAFT", Published = "PUBLISHED", Archived = "ARCHIVED" }
);
doc_enum!(
    /// An order's payment state.
    OrderStatusDto {
        PendingPayment = "PENDING_PAYMENT",
        Paid = "PAID",
        PartiallyRefunded = "PARTIALLY_REFUNDED",
        Refunded = "REFUNDED",
        Failed = "FAILED",
        Cancelled = "CANCELLED",
        Expired = "EXPIRED",
    }
);
doc_enum!(
    /// A job's state.
    JobStateDto { Pending = "PENDING", Running = "RUNNING", Done = "DONE", Dead = "DEAD" }
);
doc_enum!(
    /// What a job does: the name of the subscriber it delivers an event to.
    JobKindDto {
        SendResponse = "send_response",
        SendWelcome = "send_welcome",
        SendOtp = "send_otp",
        SendAccountLink = "send_account_link",
        SendEmailChangeNotice = "send_email_change_notice",
        SendIdentityLinkedNotice = "send_identity_linked_notice",
        GenerateInvoice = "generate_invoice",
        SendOrderConfirmation = "send_order_confirmation",
        SendAccountExists = "send_account_exists",
        GenerateCreditNote = "generate_credit_note",
        RefundUnappliedPayment = "refund_unapplied_payment",
        SendRefundNotice = "send_refund_notice",
        ExpireOrder = "expire_order",
        ReconcilePayment = "reconcile_payment",
        IndexProduct = "index_product",
        IndexPost = "index_post",
        InvalidateCatalogCache = "invalidate_catalog_cache",
        InvalidateCatalogRatings = "invalidate_catalog_ratings",
        InvalidateContentCache = "invalidate_content_cache",
        AuditProductSeo = "audit_product_seo",
        AuditPageSeo = "audit_page_seo",
        AuditPostSeo = "audit_post_seo",
        SeoScan = "seo_scan",
        InvalidateRedirects = "invalidate_redirects",
        LinkCustomerAccount = "link_customer_account",
        WarnApprovers = "warn_approvers",
        EscalateOverdueResponse = "escalate_overdue_response",
        DropErasedCart = "drop_erased_cart",
        AnonymiseErasedFeedback = "anonymise_erased_feedback",
        UnlinkErasedCustomer = "unlink_erased_customer",
    }
);

doc_enum!(
    /// What a customer timeline entry records.
    TimelineKindDto {
        EnquiryReceived = "enquiry_received",
        ResponseDrafted = "response_drafted",
        ResponseSubmitted = "response_submitted",
        ResponseApproved = "response_approved",
        ResponseRejected = "response_rejected",
        ResponseSent = "response_sent",
        OrderPlaced = "order_placed",
        PaymentCaptured = "payment_captured",
        PaymentFailed = "payment_failed",
        RefundIssued = "refund_issued",
        ReviewWritten = "review_written",
        FeedbackSent = "feedback_sent",
        NoteAdded = "note_added",
        Download = "download",
    }
);

doc_enum!(
    /// The kind of an item the SEO rules audit.
    SeoKindDto { Product = "product", Page = "page", Post = "post" }
);
doc_enum!(
    /// How much an SEO finding costs.
    SeoSeverityDto { Error = "ERROR", Warning = "WARNING", Notice = "NOTICE" }
);
doc_enum!(
    /// An SEO rule.
    SeoRuleDto {
        TitleLength = "title_length",
        MetaDescriptionMissing = "meta_description_missing",
        MetaDescriptionLength = "meta_description_length",
        SlugFormat = "slug_format",
        DuplicateTitle = "duplicate_title",
        DuplicateDescription = "duplicate_description",
        ImageAlt = "image_alt",
        BrokenInternalLink = "broken_internal_link",
        CanonicalMissing = "canonical_missing",
        ThinContent = "thin_content",
    }
);
doc_enum!(
    /// What a scan request did.
    ScanStatusDto { Queued = "QUEUED", AlreadyQueued = "ALREADY_QUEUED" }
);

/// A tag: 1 to 32 ASCII letters, digits, `-` or `_` (stored lower-cased; surrounding white
/// space is trimmed).
#[derive(Debug, Clone, ToSchema)]
#[schema(
    pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[\w-]{1,32}[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
)]
pub struct TagText(pub String);

/// An id (a UUID) given as text.
#[derive(Debug, Clone, ToSchema)]
#[schema(format = Uuid)]
pub struct IdText(pub String);

/// The multipart form of a product file upload: one part, `file`.
#[derive(Debug, ToSchema)]
#[schema(max_properties = 1)]
pub struct AssetUpload {
    /// The file; its part's file name and `Content-Type` are kept (the type must be allowed).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    #[test]
    fn the_documented_job_kinds_are_exactly_the_known_subscribers() {
        let doc = serde_json::to_value(crate::http::openapi::ApiDoc::openapi()).expect("json");
        let documented: Vec<String> = doc["components"]["schemas"]["JobKindDto"]["enum"]
            .as_array()
            .expect("an enum")
            .iter()
            .map(|v| v.as_str().expect("a name").to_owned())
            .collect();
        assert_eq!(documented, crate::http::jobs::KINDS);
    }
}
