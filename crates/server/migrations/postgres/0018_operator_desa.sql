-- The village operator role (`operator_desa`, scoped to villages).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('facilitator', 'supervisor', 'dinsos_admin', 'analyst', 'admin', 'operator_desa'));
