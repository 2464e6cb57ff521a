/* mutual: the command-line client. main reads the global options and runs one command from
 * the table below. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const char cli_usage[] =
    "usage: mutual [--server URL] COMMAND [ARGS]\n"
    "commands:\n"
    "  register HANDLE [--role member|family]   create an account and sign in\n"
    "  login HANDLE                              sign in; the session is saved\n"
    "  logout                                    end the saved session\n"
    "  whoami                                    show the saved session's account\n"
    "  ping                                      measure the round trip to the server\n"
    "  help                                      crisis and support resources (no sign-in)\n"
    "  dm HANDLE [TEXT]                          send TEXT, or open the conversation\n"
    "  inbox                                     your conversations and what is unread\n"
    "  mentees                                   your caseload (mentors)\n"
    "  assign MENTOR USER | unassign USER        change who mentors whom (admins)\n"
    "  checkin [--mood N --craving N --sleep N --use U --stage S --who5 a,b,c,d,e\n"
    "          --barc10 a,..,j --trigger T --note TEXT --tz MINUTES]\n"
    "                                            today's check-in; asks in plain words\n"
    "                                            when --mood is not given\n"
    "  checkins [--days N]                       your check-ins, with mood/craving trends\n"
    "  summary [--days N]                        streaks, averages, missed days\n"
    "  consent none|alerts|scores                what your mentor may see\n"
    "  alerts [--all] | ack ID                   alerts about your mentees (mentors)\n"
    "  rooms                                     meetings you may join\n"
    "  room create SLUG --name N --audience open|recovery|carers|mentors [--format F]\n"
    "       [--capacity N] [--persistent] [--slot 'DAY HH:MM[-HH:MM] [Area/City]']...\n"
    "  room open|close|delete SLUG               facilitators (delete: admins)\n"
    "  join ROOM                                 take part; type to speak, /help for more\n"
    "  export                                    everything stored about you, as JSON\n"
    "The password is asked for without echo, or read from standard input when it is not a\n"
    "terminal. The session lives in $XDG_CONFIG_HOME/mutual/session (mode 0600).\n";

typedef struct {
    const char *name;
    cli_cmd_fn fn;
    const char *help; /* one line, for "unknown command" hints */
} cli_command;

static const cli_command commands[] = {
    {"register", cmd_register, "create an account and sign in"},
    {"login", cmd_login, "sign in; the session is saved"},
    {"logout", cmd_logout, "end the saved session"},
    {"whoami", cmd_whoami, "show the saved session's account"},
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
};

int main(int argc, char **argv)
{
    const char *server_opt = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--server") && i + 1 < argc)
            server_opt = argv[++i];
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
    const char *name = argv[i++];
    session saved;
    bool have = session_load(&saved) == 0;
    cli_ctx cx = {.server_opt = server_opt,
                  .server = server_opt ? server_opt : have ? saved.server : CLI_DEFAULT_SERVER};
    for (size_t n = 0; n < sizeof(commands) / sizeof(commands[0]); n++)
        if (!strcmp(name, commands[n].name))
            return commands[n].fn(&cx, argc - i, argv + i);
    fprintf(stderr, "mutual: unknown command '%s'\n%s", name, cli_usage);
    return 2;
}
