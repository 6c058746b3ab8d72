//! Indexes for the lists of seeds and needs, newest first: an organisation's (by status), an
//! owner's, and the published ones. With them a page of a list is a walk down an index, and its
//! count reads the index alone; without them the database sorted every record of the organisation
//! for each page (a company's introduction form read 2,000 needs to show 100). The single-column
//! indexes they begin with are dropped: the new ones serve their lookups too.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(new index, its columns before updated_at and id, the index it replaces)` for each record
/// table; the replaced index was on the first of those columns.
const LISTS: [(&str, &[&str], &str); 3] = [
    ("organization_status_updated_idx", &["organization_id", "status"], "organization_idx"),
    ("owner_updated_idx", &["owner_id"], "owner_idx"),
    ("status_updated_idx", &["status"], "status_idx"),
];

const TABLES: [&str; 2] = ["seeds", "needs"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            for (name, leading, replaced) in LISTS {
                let mut index = Index::create();
                index.name(format!("{table}_{name}")).table(Alias::new(table));
                for &column in leading {
                    index.col(Alias::new(column));
                }
                index.col(Alias::new("updated_at")).col(Alias::new("id"));
                manager.create_index(index).await?;
                manager
                    .drop_index(Index::drop().name(format!("{table}_{replaced}")).table(Alias::new(table)).to_owned())
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            for (name, leading, replaced) in LISTS {
                manager
                    .create_index(
                        Index::create()
                            .name(format!("{table}_{replaced}"))
                            .table(Alias::new(table))
                            .col(Alias::new(leading[0]))
                            .to_owned(),
                    )
                    .await?;
                manager
                    .drop_index(Index::drop().name(format!("{table}_{name}")).table(Alias::new(table)).to_owned())
                    .await?;
            }
        }
        Ok(())
    }
}
