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
