/*
 * cli_priv.h - shared by the sources of the pagegate CLI (src/cli/); the
 * daemon links none of them.
 */
#ifndef PAGEGATE_CLI_PRIV_H
#define PAGEGATE_CLI_PRIV_H

/* `pagegate render --channel CH --client ID --message FILE.json
 * [-o OUT] [-c CONFIG] [--contact ID] [--resolution fine|standard]
 * [--paper letter|a4] [--coding mh|mr|mmr]`: what a message would look
 * like on a channel.  fax writes OUT (a TIFF); other channels print the
 * rendered subject and body.  Returns the CLI's exit code (0 ok, 1
 * invalid input or configuration, 2 usage). */
int pg_cli_render(int argc, char **argv);

#endif
