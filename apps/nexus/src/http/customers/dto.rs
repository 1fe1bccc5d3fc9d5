//! Request and response bodies of the customer endpoints.

use chrono::{DateTime, Utc};
use nexus_customers::{
    CompanyName, Customer, CustomerQuery, CustomerSort, CustomerStatus, NewCustomer, Phone,
    SearchTerm, Tags, UpdateCustomer,
};
use nexus_kernel::{Email, PersonName, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::http::error::{ApiError, FieldErrors};

/// A customer as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerResponse {
    /// Id.
    pub id: Uuid,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// E-mail (lower-cased).
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// LEAD, ACTIVE, INACTIVE or CHURNED.
    #[schema(value_type = crate::http::schema::CustomerStatusDto)]
    pub status: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Responsible officer.
    pub assigned_to: Option<Uuid>,
    /// Creator.
    pub created_by: Uuid,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Updated at.
    pub updated_at: DateTime<Utc>,
    /// Version, for `If-Match` (also the `ETag`).
    pub version: i64,
    /// The linked buyer account (same verified e-mail, or linked by staff), if any.
    pub account_id: Option<Uuid>,
}

impl From<Customer> for CustomerResponse {
    fn from(c: Customer) -> Self {
        Self {
            id: c.id.as_uuid(),
            first_name: c.first_name.into(),
            last_name: c.last_name.into(),
            email: c.email.into(),
            phone: c.phone.map(Into::into),
            company: c.company.map(Into::into),
            status: c.status.as_str().to_owned(),
            tags: c
                .tags
                .as_slice()
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            assigned_to: c.assigned_to.map(|u| u.as_uuid()),
            created_by: c.created_by.as_uuid(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
            account_id: c.account_id.map(|u| u.as_uuid()),
        }
    }
}

/// A new customer.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateCustomerRequest {
    /// Given name.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,98}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub first_name: String,
    /// Family name.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,98}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub last_name: String,
    /// E-mail, unique.
    #[validate(length(max = 1024))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Phone.
    #[validate(length(max = 1024))]
    #[schema(max_length = 30, pattern = r"^\s*\+?[-. ()]*(?:[0-9][-. ()]*){7,15}$")]
    pub phone: Option<String>,
    /// Company.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,198}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub company: Option<String>,
    /// LEAD (default), ACTIVE, INACTIVE or CHURNED.
    #[schema(value_type = Option<crate::http::schema::CustomerStatusDto>)]
    pub status: Option<String>,
    /// Tags.
    #[validate(length(max = 100))]
    #[schema(max_items = 20, value_type = Option<Vec<crate::http::schema::TagText>>)]
    pub tags: Option<Vec<String>>,
    /// Assignee (defaults to the creator; naming another needs the assign permission).
    #[schema(value_type = Option<crate::http::schema::IdText>)]
    pub assigned_to: Option<String>,
}

impl TryFrom<CreateCustomerRequest> for NewCustomer {
    type Error = ApiError;

    fn try_from(r: CreateCustomerRequest) -> Result<Self, ApiError> {
        let mut e = FieldErrors::default();
        let first_name = e.check("firstName", "invalid", PersonName::parse(&r.first_name));
        let last_name = e.check("lastName", "invalid", PersonName::parse(&r.last_name));
        let email = e.check("email", "email", Email::parse(&r.email));
        let phone = e.check_opt("phone", "phone", r.phone.as_deref().map(Phone::parse));
        let company = e.check_opt(
            "company",
            "invalid",
            r.company.as_deref().map(CompanyName::parse),
        );
        let status = e.check_opt(
            "status",
            "invalid",
            r.status.as_deref().map(str::parse::<CustomerStatus>),
        );
        let tags = e.check(
            "tags",
            "invalid",
            Tags::parse(r.tags.as_deref().unwrap_or_default()),
        );
        let assigned_to = e.check_opt(
            "assignedTo",
            "uuid",
            r.assigned_to
                .as_deref()
                .map(|s| s.parse::<UserId>().map_err(|_| "must be a user id (UUID)")),
        );
        match (
            first_name,
            last_name,
            email,
            phone,
            company,
            status,
            tags,
            assigned_to,
        ) {
            (
                Some(first_name),
                Some(last_name),
                Some(email),
                Some(phone),
                Some(company),
                Some(status),
                Some(tags),
                Some(assigned_to),
            ) if e.is_empty() => Ok(Self {
                first_name,
                last_name,
                email,
                phone,
                company,
                status,
                tags,
                assigned_to,
            }),
            _ => Err(e.into_error()),
        }
    }
}

/// A partial change; `null` clears phone or company. Carry the version read, here or in
/// `If-Match`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCustomerRequest {
    /// New given name.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,98}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub first_name: Option<String>,
    /// New family name.
    #[validate(length(max = 1024))]
    #[schema(
        max_length = 1024,
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,98}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub last_name: Option<String>,
    /// New e-mail.
    #[validate(length(max = 1024))]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// New phone, or `null` to clear.
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, nullable, max_length = 30, pattern = r"^\s*\+?[-. ()]*(?:[0-9][-. ()]*){7,15}$")]
    pub phone: Option<Option<String>>,
    /// New company, or `null` to clear.
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, nullable, max_length = 1024, pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]|[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]{0,198}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$")]
    pub company: Option<Option<String>>,
    /// New status.
    #[schema(value_type = Option<crate::http::schema::CustomerStatusDto>)]
    pub status: Option<String>,
    /// Replacement tags.
    #[validate(length(max = 100))]
    #[schema(max_items = 20, value_type = Option<Vec<crate::http::schema::TagText>>)]
    pub tags: Option<Vec<String>>,
    /// The version the client read (alternative to `If-Match`).
    #[serde(default, deserialize_with = "crate::http::extract::whole_opt")]
    pub version: Option<i64>,
}

impl TryFrom<UpdateCustomerRequest> for UpdateCustomer {
    type Error = ApiError;

    fn try_from(r: UpdateCustomerRequest) -> Result<Self, ApiError> {
        let mut e = FieldErrors::default();
        let first_name = e.check_opt(
            "firstName",
            "invalid",
            r.first_name.as_deref().map(PersonName::parse),
        );
        let last_name = e.check_opt(
            "lastName",
            "invalid",
            r.last_name.as_deref().map(PersonName::parse),
        );
        let email = e.check_opt("email", "email", r.email.as_deref().map(Email::parse));
        let phone = match r.phone {
            None => Some(None),
            Some(None) => Some(Some(None)),
            Some(Some(p)) => e
                .check("phone", "phone", Phone::parse(&p))
                .map(|p| Some(Some(p))),
        };
        let company = match r.company {
            None => Some(None),
            Some(None) => Some(Some(None)),
            Some(Some(c)) => e
                .check("company", "invalid", CompanyName::parse(&c))
                .map(|c| Some(Some(c))),
        };
        let status = e.check_opt(
            "status",
            "invalid",
            r.status.as_deref().map(str::parse::<CustomerStatus>),
        );
        let tags = e.check_opt("tags", "invalid", r.tags.as_deref().map(Tags::parse));
        match (first_name, last_name, email, phone, company, status, tags) {
            (
                Some(first_name),
                Some(last_name),
                Some(email),
                Some(phone),
                Some(company),
                Some(status),
                Some(tags),
            ) if e.is_empty() => Ok(Self {
                first_name,
                last_name,
                email,
                phone,
                company,
                status,
                tags,
            }),
            _ => Err(e.into_error()),
        }
    }
}

/// Assignment target.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignCustomerRequest {
    /// The staff member to assign.
    pub user_id: Uuid,
}

/// The buyer account to link to a customer.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkAccountRequest {
    /// The CUSTOMER account to link.
    pub user_id: Uuid,
}

/// Filters, search, sort and paging for the customer list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListCustomersQuery {
    /// Page (1-based; 0 is taken as 1).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub page: Option<u32>,
    /// Page size (default 20); values outside 1 to 100 are clamped to that range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_f64)]
    pub limit: Option<u32>,
    /// Case-insensitive substring of first name, last name or e-mail.
    #[param(
        pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u001f\u007f-\u009f]{0,98}[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f])?)?[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub search: Option<String>,
    /// LEAD, ACTIVE, INACTIVE or CHURNED.
    #[param(value_type = Option<crate::http::schema::CustomerStatusDto>)]
    pub status: Option<String>,
    /// Only customers assigned to this user id.
    #[param(
        pattern = r"^\s*(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?\s*$"
    )]
    pub assigned_to: Option<String>,
    /// createdAt | updatedAt | lastName | email; `-field` or `field:desc` for descending.
    #[param(
        pattern = r"^\s*(?:-?(?:createdAt|updatedAt|lastName|email)|(?:createdAt|updatedAt|lastName|email):(?:asc|desc))?\s*$"
    )]
    pub sort: Option<String>,
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl TryFrom<&ListCustomersQuery> for CustomerQuery {
    type Error = ApiError;

    fn try_from(q: &ListCustomersQuery) -> Result<Self, ApiError> {
        let mut e = FieldErrors::default();
        let search = e.check_opt(
            "search",
            "invalid",
            non_empty(q.search.as_deref()).map(SearchTerm::parse),
        );
        let status = e.check_opt(
            "status",
            "invalid",
            non_empty(q.status.as_deref()).map(str::parse::<CustomerStatus>),
        );
        let assigned_to = e.check_opt(
            "assignedTo",
            "uuid",
            non_empty(q.assigned_to.as_deref())
                .map(|s| s.parse::<UserId>().map_err(|_| "must be a user id (UUID)")),
        );
        let sort = e.check_opt(
            "sort",
            "invalid",
            non_empty(q.sort.as_deref()).map(str::parse::<CustomerSort>),
        );
        match (search, status, assigned_to, sort) {
            (Some(search), Some(status), Some(assigned_to), Some(sort)) if e.is_empty() => {
                Ok(CustomerQuery {
                    search,
                    status,
                    assigned_to,
                    visible_to: None,
                    sort: sort.unwrap_or(CustomerSort {
                        field: nexus_customers::SortField::CreatedAt,
                        direction: nexus_customers::SortDirection::Desc,
                    }),
                })
            }
            _ => Err(e.into_error()),
        }
    }
}
