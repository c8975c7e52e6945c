"""Templates shipped with xlcrm: Word contracts (contracts/) and campaign e-mails (emails/)."""
