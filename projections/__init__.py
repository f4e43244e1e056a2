"""Read models built from the referral event stream."""
