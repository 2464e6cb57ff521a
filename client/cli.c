/* mutual: the command-line client. main reads the global options and runs one command from
 * the table below. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cli_usage[] =
    "usage: mutual [--server URL] [--ca-file PEM] COMMAND [ARGS]\n"
    "  URL: ws://HOST:PORT, wss://..., or HOST:PORT; PEM: for wss://, the certificate\n"
    "  authorities to trust instead of the system's (also MUTUAL_CA_FILE; a sign-in keeps it)\n"
    "commands:\n"
    "  register HANDLE [--role member|family]   create an account and sign in\n"
    "  login HANDLE                              sign in; the session is saved\n"
    "  logout                                    end the saved session\n"
    "  whoami                                    your account, your mentor and what they see\n"
    "  password                                  change your password\n"
    "  delete                                    erase your account (asks for the password)\n"
    "  export                                    everything stored about you, as JSON\n"
    "  ping                                      measure the round trip to the server\n"
    "  help                                      crisis and support resources (works offline)\n"
    "  dm HANDLE [TEXT]                          send TEXT, or open the conversation\n"
    "  inbox                                     your conversations and what is unread\n"
    "  checkin [--mood N --craving N --sleep N --use none|as_planned|more_than_planned\n"
    "          --stage S --who5 a,b,c,d,e --barc10 a,..,j --trigger T --note TEXT\n"
    "          --tz MINUTES]                     today's check-in; without options it asks\n"
    "                                            in plain words (numbers 0-10, WHO-5 0-5,\n"
    "                                            BARC-10 1-6); --mood is needed with options\n"
    "  checkins [HANDLE] [--days N]              check-ins with trends (HANDLE: a mentee who\n"
    "                                            shares scores with you), N 1 to 365\n"
    "  summary [--days N]                        streaks, averages, missed days (N 7 to 365)\n"
    "  consent [none|alerts|scores]              show or set what your mentor may see\n"
    "  mentees                                   your caseload (mentors)\n"
    "  alerts [--all] | ack ID                   alerts about your mentees (mentors)\n"
    "  rooms                                     meetings you may join\n"
    "  join ROOM                                 take part; type to speak, /help for more\n"
    "                                            (/seq numbers messages, /report SEQ [REASON])\n"
    "  room create SLUG --name N --audience open|recovery|carers|mentors [--format F]\n"
    "       [--capacity N] [--persistent] [--backlog join|recent] [--listed]\n"
    "       [--slot 'DAY HH:MM[-HH:MM] [Area/City]']...\n"
    "  room update SLUG [--name N] [--format F] [--capacity N] [--persistent|--not-persistent]\n"
    "       [--backlog join|recent] [--listed|--unlisted] [--slot ...]... [--no-schedule]\n"
    "  room open|close|delete SLUG               facilitators (delete: admins)\n"
    "  unban ROOM HANDLE                         let a banned user join again (facilitators)\n"
    "  plan                                      your recovery plan: goals, steps, triggers,\n"
    "                                            warning signs, coping, people to call\n"
    "  plan edit                                 change it in plain words, a step at a time\n"
    "  plan HANDLE                               a mentee's plan (when they share scores)\n"
    "  services [--category C] [--region R]      local services (no sign-in needed); C one of\n"
    "                                            crisis, mutual_aid, treatment, harm_reduction,\n"
    "                                            family, mental_health, housing, employment,\n"
    "                                            other\n"
    "admins:\n"
    "  assign MENTOR USER | unassign USER        change who mentors whom\n"
    "  user create HANDLE --role ROLE            make an account (asks for its password)\n"
    "  user role HANDLE ROLE                     member, family, mentor or admin\n"
    "  stats                                     connections, accounts, meetings, check-ins\n"
    "  mentors                                   each mentor's caseload, alerts, time to ack\n"
    "  alerts [--all] | ack ID                   escalated alerts (nobody acknowledged them)\n"
    "  service add --name N --category C [--description D] [--phone P] [--url U]\n"
    "       [--hours H] [--region R] [--referral HOW]\n"
    "  service update ID [the same options]      change a service ('' removes a field)\n"
    "  service remove ID                         take a service out of the directory\n"
    "The password is asked for without echo, or read from standard input when it is not a\n"
    "terminal. The session lives in $XDG_CONFIG_HOME/mutual/session (mode 0600).\n";

typedef struct {
    const char *name;
    cli_cmd_fn fn;
    const char *help; /* one line, listed after an unknown command */
} cli_command;

static const cli_command commands[] = {
    {"register", cmd_register, "create an account and sign in"},
    {"login", cmd_login, "sign in; the session is saved"},
    {"logout", cmd_logout, "end the saved session"},
    {"whoami", cmd_whoami, "your account, your mentor and what they see"},
    {"ping", cmd_ping, "measure the round trip to the server"},
    {"help", cmd_help, "crisis and support resources"},
    {"dm", cmd_dm, "send a direct message or open the conversation"},
    {"inbox", cmd_inbox, "your conversations"},
    {"mentees", cmd_mentees, "your caseload"},
    {"assign", cmd_assign, "make a mentor mentor a user"},
    {"unassign", cmd_unassign, "take a user's mentor away"},
    {"export", cmd_export, "everything stored about you"},
    {"rooms", cmd_rooms, "meetings you may join"},
    {"room", cmd_room, "create, change, open, close, delete a room"},
    {"join", cmd_join, "take part in a meeting"},
    {"checkin", cmd_checkin, "today's check-in"},
    {"checkins", cmd_checkins, "your check-ins"},
    {"summary", cmd_summary, "streaks and averages"},
    {"alerts", cmd_alerts, "alerts about your mentees"},
    {"ack", cmd_ack, "close an alert"},
    {"consent", cmd_consent, "what your mentor may see"},
    {"password", cmd_password, "change your password"},
    {"delete", cmd_delete, "erase your account"},
    {"user", cmd_user, "create an account or change a role"},
    {"stats", cmd_stats, "the server's figures"},
    {"unban", cmd_unban, "let a banned user join a room again"},
    {"plan", cmd_plan, "your recovery plan, or a mentee's"},
    {"services", cmd_services, "local services: treatment, harm reduction, mutual aid..."},
    {"service", cmd_service, "add, change or remove a local service"},
    {"mentors", cmd_mentors, "each mentor's load, for supervision"},
};

int main(int argc, char **argv)
{
    const char *server_opt = NULL, *ca_opt = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--server") && i + 1 < argc)
            server_opt = argv[++i];
        else if (!strcmp(argv[i], "--ca-file") && i + 1 < argc)
            ca_opt = argv[++i];
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("%s", cli_usage);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("mutual %s\n", MUTUAL_VERSION);
            return 0;
        } else {
            fprintf(stderr, "mutual: unknown option '%s'\n%s", argv[i], cli_usage);
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "%s", cli_usage);
        return 2;
    }
    /* "127.0.0.1:7681" means the WebSocket URL; a scheme typed out is kept as it is */
    char server_url[600];
    if (server_opt && !strstr(server_opt, "://")) {
        snprintf(server_url, sizeof(server_url), "ws://%s", server_opt);
        server_opt = server_url;
    }
    const char *name = argv[i++];
    session saved;
    bool have = session_load(&saved) == 0;
    if (!ca_opt)
        ca_opt = getenv("MUTUAL_CA_FILE");
    /* The session's CA goes with the session's server. */
    if (!ca_opt && have && saved.ca_file[0] && (!server_opt || !strcmp(server_opt, saved.server)))
        ca_opt = saved.ca_file;
    if (ca_opt && ca_opt[0] && cli_set_ca_file(ca_opt) != 0) {
        if (have && ca_opt == saved.ca_file)
            fprintf(stderr, "mutual: (the CA file was saved with your session; pass --ca-file "
                            "with another, or log in again)\n");
        return 2;
    }
    cli_ctx cx = {.server_opt = server_opt,
                  .server = server_opt ? server_opt
                            : have     ? saved.server
                                       : CLI_DEFAULT_SERVER};
    for (size_t n = 0; n < sizeof(commands) / sizeof(commands[0]); n++)
        if (!strcmp(name, commands[n].name))
            return commands[n].fn(&cx, argc - i, argv + i);
    fprintf(stderr, "mutual: unknown command '%s'; the commands are:\n", name);
    for (size_t n = 0; n < sizeof(commands) / sizeof(commands[0]); n++)
        fprintf(stderr, "  %-10s %s\n", commands[n].name, commands[n].help);
    fprintf(stderr, "'mutual --help' shows their options.\n");
    return 2;
}
