-- Logical schema of the bundled sample scenario (unsharded reference database).
CREATE TABLE t_account (account_id INT PRIMARY KEY, user_id INT NOT NULL, currency VARCHAR(3) NOT NULL, balance DECIMAL(12,2) NOT NULL, opened DATE NOT NULL);
CREATE TABLE t_entry (entry_id BIGINT PRIMARY KEY, account_id INT NOT NULL, user_id INT NOT NULL, amount DECIMAL(12,2) NOT NULL, memo VARCHAR(40));
CREATE TABLE t_currency (code VARCHAR(3) PRIMARY KEY, name VARCHAR(30) NOT NULL, decimals INT NOT NULL);
CREATE TABLE t_branch (branch_id INT PRIMARY KEY, city VARCHAR(30) NOT NULL);
CREATE TABLE t_log (log_id INT PRIMARY KEY, n INT NOT NULL, note VARCHAR(20));
