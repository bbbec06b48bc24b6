-- The append function as store/sql/complaints_append.sql holds it (the body 0009 created,
-- unchanged): from here on that file is where it is read and changed.
\ir ../sql/complaints_append.sql
