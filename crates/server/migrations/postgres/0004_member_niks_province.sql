-- member_niks is keyed by the sharding key first, like households and household_versions
-- (ARCHITECTURE.md): (province, nik, household), so Citus can distribute it by province.
-- The duplicate-NIK check looks a NIK up in every province (index on nik).
ALTER TABLE member_niks DROP CONSTRAINT member_niks_pkey;
ALTER TABLE member_niks ADD PRIMARY KEY (province, nik, household_id);
CREATE INDEX member_niks_nik ON member_niks (nik);
