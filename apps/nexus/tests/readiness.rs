//! The readiness probe answers 503 once the database is gone, and 200 while it answers.

use actix_web::{test, web};
use nexus::settings::Settings;
use nexus::startup::{compose, connect};

async fn state_on_temp_sqlite(dir: &tempfile::TempDir) -> (Settings, nexus::state::AppState) {
    let url = format!("sqlite://{}/ready.db?mode=rwc", dir.path().display());
    let vars = [("DATABASE_URL", url.as_str()), ("BCRYPT_COST", "4")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let settings = Settings::from_map(&vars).expect("settings");
    let db = connect(&settings, true).await.expect("database");
    let state = compose(&settings, db).await.expect("compose");
    (settings, state)
}

#[actix_web::test]
async fn ready_is_503_with_the_uniform_shape_when_the_database_is_unreachable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (settings, state) = state_on_temp_sqlite(&dir).await;
    let db = state.db.clone();
    let app = test::init_service(nexus::http::app(
        web::Data::new(state),
        settings.http.clone(),
    ))
    .await;

    let ok = test::call_service(
        &app,
        test::TestRequest::get().uri("/health/ready").to_request(),
    )
    .await;
    assert_eq!(ok.status(), 200);

    db.close().await.expect("pool closes");
    let res = test::call_service(
        &app,
        test::TestRequest::get().uri("/health/ready").to_request(),
    )
    .await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = test::read_body_json(res).await;
    assert_eq!(body["statusCode"], 503);
    assert_eq!(body["error"], "service_unavailable");
    assert_eq!(body["path"], "/health/ready");

    let live = test::call_service(
        &app,
        test::TestRequest::get().uri("/health/live").to_request(),
    )
    .await;
    assert_eq!(
        live.status(),
        200,
        "liveness does not depend on the database"
    );
}
