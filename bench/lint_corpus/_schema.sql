-- Tables the corpus files act on (loaded before linting; not linted itself).
CREATE TABLE users (id int PRIMARY KEY, email text, name varchar(50), age int);
CREATE TABLE orders (id int PRIMARY KEY, user_id int);
CREATE INDEX users_email_idx ON users (email);
