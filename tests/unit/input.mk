# form/redirect/header/email/csv/template/session unit tests
