-- Open311 GeoReport v2 server: what a client's POST requests carried besides the ticket itself. The answers to (PostgreSQL twin of ../0011_open311.sql)
-- the category's extra questions (attribute[code]) as JSON, the client's media_url kept as text (for operators,
-- never fetched), and the address it gave (address_string / address_id), as sent. The client is also the ticket's
-- channel_client; its contact (name, phone, email, device and account ids) is in ticket_contacts.
CREATE TABLE open311_requests (
    ticket_id      BIGINT PRIMARY KEY REFERENCES tickets(id),
    client         TEXT NOT NULL,
    attributes     TEXT NOT NULL DEFAULT '{}',
    media_url      TEXT,
    address_string TEXT,
    address_id     TEXT,
    received_at    TEXT NOT NULL
);

-- servicerequestupdates: the public events of a period, in order (FixMyStreet polls it every few minutes).
CREATE INDEX events_public_by_time ON events(at) WHERE public = 1;
