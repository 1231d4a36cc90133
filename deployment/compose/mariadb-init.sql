-- Run once by the MariaDB image on an empty data volume, after it has created
-- the user named by MARIADB_USER. One database per log: tessera's sequencing
-- tables and the registry's state of a log live together in it.
CREATE DATABASE IF NOT EXISTS tabularium_land;
CREATE DATABASE IF NOT EXISTS tabularium_diplomas;
CREATE DATABASE IF NOT EXISTS tabularium_vaccinations;
GRANT ALL PRIVILEGES ON tabularium_land.* TO 'tabularium'@'%';
GRANT ALL PRIVILEGES ON tabularium_diplomas.* TO 'tabularium'@'%';
GRANT ALL PRIVILEGES ON tabularium_vaccinations.* TO 'tabularium'@'%';
