DROP TABLE orders;
