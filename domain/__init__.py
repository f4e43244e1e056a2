"""The pure domain of ks-engine: referrals to a Knooppunt Kansrijke Start and their rules."""
