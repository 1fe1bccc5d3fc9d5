#![doc = include_str!("../README.md")]

use sea_orm_migration::prelude::*;

mod m20261121_000001_create_users;
mod m20261121_000002_create_refresh_tokens;
mod m20261121_000003_create_customers;
mod m20261121_000004_create_customer_counts;
mod m20261121_000005_create_jobs;
mod m20261121_000006_create_enquiries;
mod m20261121_000007_create_one_time_codes;
mod m20261121_000008_create_responses;
mod m20261121_000009_create_products;
mod m20261121_000010_create_orders;
mod m20261121_000011_create_entitlements;
mod m20261121_000012_create_payment_events;
mod m20261121_000013_create_invoice_counters;
mod m20261121_000014_create_carts;
mod m20261204_200000_add_order_money_guards;
mod m20261204_200100_create_credit_notes;
mod m20261204_210000_create_outbox;
mod m20261205_080000_create_background_work_view;
mod m20261205_090000_drop_jobs;
mod m20261206_020000_create_content_pages;
mod m20261206_020000_create_feedback;
mod m20261206_020000_create_metrics;
mod m20261206_180000_create_seo_audits;
mod m20261206_180500_create_team_members;
mod m20261206_181000_create_posts;
mod m20261206_220000_add_post_search;
mod m20261206_223000_create_redirect_rules;
mod m20261207_090000_add_product_covers;
mod m20261207_100000_create_account_links;
mod m20261207_120000_create_oauth_sign_in;
mod m20261207_140000_add_customer_accounts;
mod m20261207_140100_create_customer_notes;
mod m20261207_140200_add_timeline_indexes;
mod m20261207_150000_create_audit_log;
mod m20261207_160000_add_response_deadlines;
mod m20261207_160000_add_session_details;
mod m20261207_160100_create_two_factor;
mod m20261207_200000_create_downloads_and_payment_failures;
mod m20261207_200100_add_dashboard_indexes;
mod m20261208_090000_speed_up_dashboards;
mod m20261209_090000_create_order_counters;

/// Applies the schema migrations of Customer Nexus Hub, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_create_users::Migration),
            Box::new(m20261121_000002_create_refresh_tokens::Migration),
            Box::new(m20261121_000003_create_customers::Migration),
            Box::new(m20261121_000004_create_customer_counts::Migration),
            Box::new(m20261121_000005_create_jobs::Migration),
            Box::new(m20261121_000006_create_enquiries::Migration),
            Box::new(m20261121_000007_create_one_time_codes::Migration),
            Box::new(m20261121_000008_create_responses::Migration),
            Box::new(m20261121_000009_create_products::Migration),
            Box::new(m20261121_000010_create_orders::Migration),
            Box::new(m20261121_000011_create_entitlements::Migration),
            Box::new(m20261121_000012_create_payment_events::Migration),
            Box::new(m20261121_000013_create_invoice_counters::Migration),
            Box::new(m20261121_000014_create_carts::Migration),
            Box::new(m20261204_200000_add_order_money_guards::Migration),
            Box::new(m20261204_200100_create_credit_notes::Migration),
            Box::new(m20261204_210000_create_outbox::Migration),
            Box::new(m20261205_080000_create_background_work_view::Migration),
            Box::new(m20261205_090000_drop_jobs::Migration),
            Box::new(m20261206_020000_create_metrics::Migration),
            Box::new(m20261206_020000_create_feedback::Migration),
            Box::new(m20261206_020000_create_content_pages::Migration),
            Box::new(m20261206_180000_create_seo_audits::Migration),
            Box::new(m20261206_180500_create_team_members::Migration),
            Box::new(m20261206_181000_create_posts::Migration),
            Box::new(m20261206_220000_add_post_search::Migration),
            Box::new(m20261206_223000_create_redirect_rules::Migration),
            Box::new(m20261207_090000_add_product_covers::Migration),
            Box::new(m20261207_100000_create_account_links::Migration),
            Box::new(m20261207_120000_create_oauth_sign_in::Migration),
            Box::new(m20261207_140000_add_customer_accounts::Migration),
            Box::new(m20261207_140100_create_customer_notes::Migration),
            Box::new(m20261207_140200_add_timeline_indexes::Migration),
            Box::new(m20261207_160000_add_response_deadlines::Migration),
            Box::new(m20261207_160000_add_session_details::Migration),
            Box::new(m20261207_160100_create_two_factor::Migration),
            Box::new(m20261207_200000_create_downloads_and_payment_failures::Migration),
            Box::new(m20261207_200100_add_dashboard_indexes::Migration),
            Box::new(m20261207_150000_create_audit_log::Migration),
            Box::new(m20261208_090000_speed_up_dashboards::Migration),
            Box::new(m20261209_090000_create_order_counters::Migration),
        ]
    }
}
