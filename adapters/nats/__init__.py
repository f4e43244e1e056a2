"""NATS JetStream adapters: embedded server, intake, relay, consumers."""
