//! Buyer accounts and their orders: checked out from a cart, paid the way the development
//! gateway records a captured payment, invoiced; some refunded (in full or in part)
//! through the refund path, with their credit notes.

use nexus_identity::{IdentityError, NewStaffUser};
use nexus_kernel::{Email, PersonName, Role, UserId};
use nexus_orders::{OrdersError, RefundReason};

use super::{Context as _, Seeder, Tally, rng};
use crate::cli::{CliError, DEMO_PASSWORD};

/// The demo buyers: e-mail, given name, family name. Each signs in with the demo password.
pub(crate) const BUYERS: [(&str, &str, &str); 8] = [
    ("ananya.krishnan@example.com", "Ananya", "Krishnan"),
    ("rohit.verma@example.com", "Rohit", "Verma"),
    ("fatima.sheikh@example.org", "Fatima", "Sheikh"),
    ("james.wilson@example.net", "James", "Wilson"),
    ("kavitha.subramaniam@example.com", "Kavitha", "Subramaniam"),
    ("lucas.martin@example.org", "Lucas", "Martin"),
    ("arjun.bhatt@example.net", "Arjun", "Bhatt"),
    ("sakura.ito@example.com", "Sakura", "Ito"),
];

/// How many orders the buyers place: two by every other buyer, one by the rest.
const ORDERS: usize = BUYERS.len() + BUYERS.len().div_ceil(2);

/// Which orders (in the order they are placed) are refunded: in full, or half.
const FULL_REFUNDS: [usize; 2] = [2, 9];
const PARTIAL_REFUNDS: [usize; 1] = [5];

/// Creates the buyers and their orders, unless the first buyer already exists.
pub(super) async fn seed(seeder: &mut Seeder<'_>) -> Result<Tally, CliError> {
    let admin = seeder.staff()?.admin();
    // Creating accounts is an administrator's act; one that exists only for this run.
    let system = crate::access::actor(UserId::new(), Role::Admin);
    let mut buyers = Vec::new();
    for (i, (email, first, last)) in BUYERS.into_iter().enumerate() {
        let input = NewStaffUser {
            email: Email::parse(email).ctx("a buyer address")?,
            password: DEMO_PASSWORD.into(),
            first_name: PersonName::parse(first).ctx("a buyer name")?,
            last_name: PersonName::parse(last).ctx("a buyer name")?,
            role: Role::Customer,
        };
        match seeder.state.identity.create_user(&system, input).await {
            Ok(user) => buyers.push(user.id),
            Err(IdentityError::EmailTaken) if i == 0 => {
                return Ok(Tally {
                    created: 0,
                    skipped: ORDERS,
                });
            }
            Err(e) => return Err(e).ctx("creating a buyer account"),
        }
    }
    let for_sale: Vec<_> = seeder
        .products
        .iter()
        .filter(|p| p.price.amount_minor() > 0)
        .map(|p| p.id)
        .collect();
    if for_sale.len() < 4 {
        return Err(CliError::Refused(
            "seed: orders need the demo products".into(),
        ));
    }
    let mut rng = rng("orders");
    let mut tally = Tally::default();
    let mut placed = 0;
    for (b, buyer) in buyers.into_iter().enumerate() {
        let actor = crate::access::actor(buyer, Role::Customer);
        // Each buyer owns distinct products: one order of two, and every other buyer a
        // second order of one.
        let mut picks = for_sale.clone();
        rng.shuffle(&mut picks);
        // Keep in step with ORDERS.
        let orders: Vec<Vec<_>> = if b % 2 == 0 {
            vec![picks[..2].to_vec(), picks[2..3].to_vec()]
        } else {
            vec![picks[..2].to_vec()]
        };
        for lines in orders {
            for product in lines {
                seeder
                    .state
                    .cart
                    .add(&actor, product)
                    .await
                    .ctx("filling a cart")?;
            }
            let session = seeder
                .state
                .orders
                .checkout(&actor)
                .await
                .ctx("checking out")?;
            let order = match seeder
                .state
                .orders
                .complete_dev_payment(&actor, session.order_id)
                .await
            {
                Err(OrdersError::DevGatewayOnly) => {
                    return Err(CliError::Refused(
                        "seed: orders are paid through the development gateway: unset the Razorpay keys".into(),
                    ));
                }
                other => other.ctx("paying an order")?,
            };
            seeder
                .state
                .invoices
                .generate(order.id())
                .await
                .ctx("rendering an invoice")?;
            let refund = if FULL_REFUNDS.contains(&placed) {
                Some((None, "Bought the wrong product by mistake"))
            } else if PARTIAL_REFUNDS.contains(&placed) {
                Some((
                    Some(order.total().amount_minor() / 2),
                    "Goodwill refund for a late download",
                ))
            } else {
                None
            };
            if let Some((amount, reason)) = refund {
                let refunded = seeder
                    .state
                    .orders
                    .refund(
                        &admin,
                        order.id(),
                        amount,
                        RefundReason::parse(reason).ctx("a refund reason")?,
                    )
                    .await
                    .ctx("refunding an order")?;
                for r in refunded.refunds() {
                    seeder
                        .state
                        .invoices
                        .generate_credit_note(order.id(), &r.refund_id)
                        .await
                        .ctx("rendering a credit note")?;
                }
            }
            placed += 1;
            tally.created += 1;
        }
    }
    Ok(tally)
}
