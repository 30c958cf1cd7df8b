# Installed under $(datadir)/icsoe: schema and example configuration.
nobase_dist_icsoedata_DATA += \
	schema/README.md \
	schema/icsoe.schema schema/icsoe.ldif \
	schema/acl-example.conf schema/slapd-db-example.conf schema/db-config.ldif \
	schema/ppolicy-default.ldif schema/bootstrap.ldif schema/icsoe-slapd-setup \
	schema/mirror-example.conf schema/mirror.ldif schema/replicator.ldif \
	conf/icsoe.conf.example
