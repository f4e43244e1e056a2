"""ks-engine: event-sourced case routing for the Knooppunt Kansrijke Start."""
