-- Facts about the catalog itself, one value per name: the fingerprint of
-- the master key the catalog was created under (never the key).
CREATE TABLE catalog_meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
