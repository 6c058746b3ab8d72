use kakehashi_migration::{Migrator, MigratorTrait};

use crate::helpers::{fresh_database_url, test_settings};

/// Every migration goes up, down and up again on the backend under test.
#[actix_web::test]
async fn migrations_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let settings = test_settings(dir.path().to_owned(), fresh_database_url().await);
    let db = kakehashi::startup::database(&settings).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    assert!(Migrator::get_pending_migrations(&db).await.unwrap().is_empty());
    Migrator::down(&db, None).await.unwrap();
    assert_eq!(Migrator::get_pending_migrations(&db).await.unwrap().len(), Migrator::migrations().len());
    Migrator::up(&db, None).await.unwrap();
    assert!(Migrator::get_pending_migrations(&db).await.unwrap().is_empty());
}

/// An organisation's newest records a page at a time walk an index: the database neither sorts
/// the organisation's records nor reads them for the page's count (`SQLite`'s plan; the same
/// indexes exist on `PostgreSQL`).
#[actix_web::test]
async fn an_organisations_newest_records_are_listed_from_an_index() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let dir = tempfile::tempdir().unwrap();
    let settings = test_settings(dir.path().to_owned(), fresh_database_url().await);
    let db = kakehashi::startup::database(&settings).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    for table in ["seeds", "needs"] {
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE organization_id = x'00' AND status = 'published' \
             ORDER BY updated_at DESC, id DESC LIMIT 100"
        );
        let plan = db.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap();
        let steps: Vec<String> = plan.iter().map(|row| row.try_get::<String>("", "detail").unwrap()).collect();
        assert!(
            steps.iter().any(|s| s.contains(&format!("{table}_organization_status_updated_idx"))),
            "{table}: {steps:?}"
        );
        assert!(!steps.iter().any(|s| s.contains("TEMP B-TREE")), "{table} sorts its rows: {steps:?}");
    }
}
