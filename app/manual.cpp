// SPDX-License-Identifier: Apache-2.0
// tlsrpt-collector(1) and the bash/zsh completions, generated from the CLI11 definition.
#include "manual.hpp"

#include <CLI/CLI.hpp>

#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tlsrpt::app {
namespace {

// Commands without a group are internal (the generators themselves): CLI11 hides them from
// --help, and so do the manual and the completions.
std::vector<const CLI::App*> commands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); });
}

std::vector<const CLI::Option*> options(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return !o->get_group().empty(); });
}

bool is_flag(const CLI::Option& o) { return o.get_expected_min() == 0; }

// The fixed set of values an option takes, from the "{a,b,c}" CLI11 appends to the type name
// of an IsMember check; empty when the value is free.
std::vector<std::string> choices(const CLI::Option& o) {
  const std::string t = o.get_type_name();
  const auto open = t.find('{');
  const auto close = t.find('}', open == std::string::npos ? 0 : open);
  std::vector<std::string> out;
  if (open == std::string::npos || close == std::string::npos) return out;
  std::string cur;
  for (auto i = open + 1; i < close; ++i) {
    if (t[i] == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (t[i] != ' ') {
      cur += t[i];
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::vector<std::string> option_words(const CLI::Option& o) {
  std::vector<std::string> w;
  for (const auto& s : o.get_snames()) w.push_back("-" + s);
  for (const auto& l : o.get_lnames()) w.push_back("--" + l);
  return w;
}

// Options that name a file or a directory: their values complete as paths.
bool takes_path(const CLI::Option& o) {
  for (const auto& l : o.get_lnames()) {
    if (l == "config" || l == "html" || l == "file" || l == "output") return true;
  }
  return o.get_positional();
}

// roff: a backslash is \e, a hyphen in an option is \-, and a line must not start with a dot
// or an apostrophe (a request).
std::string roff(const std::string& s) {
  std::string out;
  bool line_start = true;
  for (const char c : s) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
    line_start = c == '\n';
  }
  return out;
}

std::string metavar(const CLI::Option& o) {
  if (is_flag(o)) return {};
  const auto c = choices(o);
  if (!c.empty()) {
    std::string s;
    for (const auto& v : c) s += (s.empty() ? "" : "|") + v;
    return s;
  }
  if (takes_path(o)) return "FILE";
  std::string name = o.get_lnames().empty() ? o.get_name() : o.get_lnames().front();
  for (auto& ch : name) ch = static_cast<char>(ch == '-' ? '_' : std::toupper(ch));
  return name;
}

void man_option(const CLI::Option& o, std::ostream& out) {
  out << ".TP\n";
  if (o.get_positional()) {
    out << "\\fI" << roff(o.get_name()) << "\\fR\n";
  } else {
    std::string sep;
    for (const auto& w : option_words(o)) {
      out << sep << "\\fB" << roff(w) << "\\fR";
      sep = ", ";
    }
    if (const auto m = metavar(o); !m.empty()) out << " \\fI" << roff(m) << "\\fR";
    out << "\n";
  }
  out << roff(o.get_description());
  if (const auto d = o.get_default_str(); !d.empty() && !is_flag(o)) {
    out << " (default: " << roff(d) << ")";
  }
  out << "\n";
}

void man_synopsis(const CLI::App& cmd, std::ostream& out) {
  out << "\\fBtlsrpt\\-collector\\fR [\\fIglobal options\\fR] \\fB" << roff(cmd.get_name())
      << "\\fR";
  for (const auto* o : options(cmd)) {
    if (o->get_positional()) {
      out << (o->get_required() ? " \\fI" : " [\\fI") << roff(o->get_name()) << "\\fR"
          << (o->get_required() ? "" : "]");
      if (o->get_expected_max() > 1) out << "...";
    }
  }
  bool has_options = false;
  for (const auto* o : options(cmd)) {
    has_options |= !o->get_positional() && o != cmd.get_help_ptr();
  }
  if (has_options) out << " [\\fIoptions\\fR]";
  out << "\n";
}

// What --help has no room for. Kept here so that a change of the program and of its manual
// are one commit.
constexpr const char* man_description =
    R"(When a domain publishes \fB_smtp._tls.example.com TXT "v=TLSRPTv1; rua=mailto:...\fR",
mail providers send it a daily SMTP TLS report (RFC 8460): per policy domain, how many TLS
sessions to its MX hosts worked and which failed, and why.
\fBtlsrpt\-collector\fR fetches those reports from IMAP mailboxes (or takes them from files,
stdin or HTTPS, as configured), keeps every field, and stores them in PostgreSQL tables and
views (schema \fBtlsrpt\fR), counting each report exactly once.
It summarises them per domain and says when an MTA\-STS policy can move from \fItesting\fR to
\fIenforce\fR.
.PP
The configuration is a YAML file; every key and its default is documented in
\fI/usr/share/doc/tlsrpt\-collector/examples/config.example.yaml\fR.
Unknown keys are errors, reported with their line.
Secrets are never written in the file itself: each secret key has an \fB_env\fR form (an
environment variable), a \fB_file\fR form (a file holding the secret) and a \fB_credential\fR
form (the name of a systemd credential, read from \fI$CREDENTIALS_DIRECTORY\fR).
)";

constexpr const char* man_tail =
    R"(.SH EXIT STATUS
The commands follow \fBsysexits\fR(3), which MTAs and systemd understand:
.TP
.B 0
Done.
.TP
.B 64
Usage error: unknown command or option, a malformed value.
.TP
.B 65
Data rejected: a report that cannot be read (it is kept and recorded with its error).
.TP
.B 66
No input: an input file that cannot be read, or no kept bytes for \fBmessages \-\-raw\fR.
.TP
.B 69
A service refused us for good.
.TP
.B 70
Internal error (a bug; please report it).
.TP
.B 75
Temporary failure: a server was refused, unreachable or timed out.
An MTA delivering through \fBingest \-\fR retries later; the systemd units restart.
.TP
.B 77
Permission denied (a database role lacks a privilege).
.TP
.B 78
Configuration error: fix the file or the credentials, restarting will not help.
.PP
Commands that report on the state of domains (\fBcheck\fR, \fBcheck\-domain\fR) follow the
monitoring plugin convention instead, so Nagios, Icinga and cron use them as they are:
0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
.SH ENVIRONMENT
.TP
.B TLSRPT_CONFIG
The configuration file when \fB\-c\fR is not given.
.TP
.B TLSRPT_DATABASE_URL
The database URL; overrides \fBdatabase.url\fR.
.TP
.B TLSRPT_MIGRATIONS_DIR
Where the SQL migrations are, instead of \fI/usr/share/tlsrpt\-collector/migrations\fR.
.TP
.B CREDENTIALS_DIRECTORY
Set by systemd for units with \fBLoadCredential=\fR: the \fB*_credential\fR keys and the
credential \fBdatabase\-url\fR are read from it.
.TP
.B NOTIFY_SOCKET
Set by systemd for \fBType=notify\fR units: \fBrun\fR reports when it is ready and when it
stops.
.PP
Any variable a \fB*_env\fR key of the configuration names (for example
\fBTLSRPT_IMAP_PASSWORD\fR).
.SH FILES
.TP
.I /etc/tlsrpt\-collector/config.yaml
The configuration (mode 0640, group tlsrpt).
.TP
.I /etc/tlsrpt\-collector/environment
Environment for the units (mode 0600), for example \fBTLSRPT_DATABASE_URL\fR.
.TP
.I /etc/tlsrpt\-collector/credentials/
Files loaded by the units as systemd credentials (mode 0700): one secret per file, named as
the \fB*_credential\fR keys say.
.TP
.I /usr/share/tlsrpt\-collector/migrations/
The schema migrations that \fBmigrate\fR applies.
.TP
.I /usr/share/doc/tlsrpt\-collector/
The README and \fIschema.md\fR: every table, view and column of the schema \fBtlsrpt\fR.
.SH EXAMPLES
Check the configuration and log in to every mailbox and the database:
.PP
.RS
.nf
tlsrpt\-collector check\-config \-\-connect
.fi
.RE
.PP
Create the tables, then poll every mailbox once:
.PP
.RS
.nf
tlsrpt\-collector migrate
tlsrpt\-collector poll
.fi
.RE
.PP
Deliver report mail straight from the MTA (in \fI/etc/aliases\fR):
.PP
.RS
.nf
tlsrpt: "|/usr/bin/tlsrpt\-collector ingest \-"
.fi
.RE
.PP
The last 30 days of one domain, as JSON:
.PP
.RS
.nf
tlsrpt\-collector summary \-\-days 30 \-\-domain example.com \-\-format json
.fi
.RE
.PP
Read a report file without any configuration:
.PP
.RS
.nf
tlsrpt\-collector parse report.json.gz
.fi
.RE
.PP
Run as a service: \fBsystemctl enable \-\-now tlsrpt\-collector\fR (the daemon,
\fBrun\fR) or \fBsystemctl enable \-\-now tlsrpt\-collector\-poll.timer\fR (one \fBpoll\fR
every 15 minutes).
.SH SEE ALSO
\fBsysexits\fR(3), \fBsystemd.exec\fR(5), \fBsystemd\-creds\fR(1),
RFC 8460 (SMTP TLS Reporting), RFC 8461 (MTA\-STS).
)";

}  // namespace

void write_manpage(const CLI::App& app, std::ostream& out) {
  out << ".\\\" Generated by tlsrpt-collector from its command line definition; do not edit.\n"
      << ".TH TLSRPT\\-COLLECTOR 1 \"\" \"tlsrpt-collector " << TLSRPT_VERSION
      << "\" \"User Commands\"\n"
      << ".SH NAME\ntlsrpt\\-collector \\- SMTP TLS reports (RFC 8460) into PostgreSQL\n"
      << ".SH SYNOPSIS\n";
  for (const auto* cmd : commands(app)) {
    man_synopsis(*cmd, out);
    out << ".br\n";
  }
  out << ".SH DESCRIPTION\n" << man_description << ".SH GLOBAL OPTIONS\n";
  for (const auto* o : options(app)) man_option(*o, out);
  out << ".SH COMMANDS\n";
  for (const auto* cmd : commands(app)) {
    out << ".SS " << roff(cmd->get_name()) << "\n";
    // A description may span lines (it does in --help); each line is a sentence or a clause.
    out << roff(cmd->get_description()) << "\n";
    const auto opts = options(*cmd);
    if (!opts.empty()) out << ".PP\n";
    for (const auto* o : opts) {
      if (o == cmd->get_help_ptr()) continue;
      man_option(*o, out);
    }
  }
  out << man_tail;
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

// Single-quoted for a shell: the help texts hold quotes and brackets.
std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// zsh's _arguments specs put descriptions in [...]: brackets and colons must be escaped.
std::string zsh_desc(std::string s) {
  if (const auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  std::string out;
  for (const char c : s) {
    if (c == '[' || c == ']' || c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

void bash_value_cases(const CLI::App& cmd, std::ostream& out) {
  for (const auto* o : options(cmd)) {
    if (is_flag(*o) || o->get_positional()) continue;
    const auto words = option_words(*o);
    if (words.empty()) continue;
    std::string pattern;
    for (const auto& w : words) pattern += (pattern.empty() ? "" : "|") + w;
    out << "      " << pattern << ")\n";
    if (const auto c = choices(*o); !c.empty()) {
      out << "        COMPREPLY=($(compgen -W " << sh_quote(join(c)) << " -- \"$cur\"))\n";
    } else if (takes_path(*o)) {
      out << "        COMPREPLY=($(compgen -f -- \"$cur\"))\n";
    } else {
      out << "        COMPREPLY=()\n";
    }
    out << "        return ;;\n";
  }
}

std::vector<std::string> all_option_words(const CLI::App& cmd) {
  std::vector<std::string> w;
  for (const auto* o : options(cmd)) {
    if (o->get_positional()) continue;
    for (auto& x : option_words(*o)) w.push_back(std::move(x));
  }
  return w;
}

void write_bash(const CLI::App& app, std::ostream& out) {
  std::vector<std::string> names;
  for (const auto* c : commands(app)) names.push_back(c->get_name());
  out << "# bash completion for tlsrpt-collector; generated from its command line definition.\n"
      << "_tlsrpt_collector() {\n"
      << "  local cur prev cmd i\n"
      << "  cur=${COMP_WORDS[COMP_CWORD]}\n"
      << "  prev=${COMP_WORDS[COMP_CWORD-1]}\n"
      << "  cmd=\n"
      << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    case ${COMP_WORDS[i]} in\n"
      << "      " <<
      [&] {
        std::string p;
        for (const auto& n : names) p += (p.empty() ? "" : "|") + n;
        return p;
      }()
      << ") cmd=${COMP_WORDS[i]}; break ;;\n"
      << "    esac\n"
      << "  done\n"
      << "  case $cmd in\n"
      << "    '')\n"
      << "    case $prev in\n";
  bash_value_cases(app, out);
  out << "    esac\n"
      << "    COMPREPLY=($(compgen -W " << sh_quote(join(all_option_words(app)) + " " + join(names))
      << " -- \"$cur\")) ;;\n";
  for (const auto* c : commands(app)) {
    out << "    " << c->get_name() << ")\n"
        << "    case $prev in\n";
    bash_value_cases(*c, out);
    out << "    esac\n";
    bool has_path_positional = false;
    for (const auto* o : options(*c)) has_path_positional |= o->get_positional();
    out << "    if [[ $cur == -* ]]; then\n"
        << "      COMPREPLY=($(compgen -W " << sh_quote(join(all_option_words(*c)))
        << " -- \"$cur\"))\n";
    if (has_path_positional) {
      out << "    else\n      COMPREPLY=($(compgen -f -- \"$cur\"))\n";
    } else {
      out << "    else\n      COMPREPLY=()\n";
    }
    out << "    fi ;;\n";
  }
  out << "  esac\n"
      << "}\n"
      << "complete -F _tlsrpt_collector -o filenames tlsrpt-collector\n";
}

void zsh_specs(const CLI::App& cmd, std::ostream& out) {
  for (const auto* o : options(cmd)) {
    if (o->get_positional()) {
      out << "    " << sh_quote("*:" + o->get_name() + ":_files") << " \\\n";
      continue;
    }
    const auto words = option_words(*o);
    if (words.empty()) continue;
    std::string action;
    if (!is_flag(*o)) {
      const auto c = choices(*o);
      action = ":" + metavar(*o) + ":" +
               (!c.empty() ? "(" + join(c) + ")" : (takes_path(*o) ? "_files" : " "));
    }
    const std::string exclusive = words.size() > 1 ? "(" + join(words) + ")" : "";
    const std::string spec = words.size() > 1 ? "{" +
                                                    [&] {
                                                      std::string s;
                                                      for (const auto& w : words)
                                                        s += (s.empty() ? "" : ",") + w;
                                                      return s;
                                                    }() +
                                                    "}"
                                              : words.front();
    out << "    " << sh_quote(exclusive) << spec
        << sh_quote("[" + zsh_desc(o->get_description()) + "]" + action) << " \\\n";
  }
}

void write_zsh(const CLI::App& app, std::ostream& out) {
  out << "#compdef tlsrpt-collector\n"
      << "# zsh completion for tlsrpt-collector; generated from its command line definition.\n"
      << "_tlsrpt_collector() {\n"
      << "  local curcontext=$curcontext state line ret=1\n"
      << "  typeset -A opt_args\n"
      << "  _arguments -C \\\n";
  zsh_specs(app, out);
  out << "    '1:command:->command' \\\n"
      << "    '*::argument:->argument' && ret=0\n"
      << "  case $state in\n"
      << "    command)\n"
      << "      local -a commands\n"
      << "      commands=(\n";
  for (const auto* c : commands(app)) {
    out << "        " << sh_quote(c->get_name() + ":" + zsh_desc(c->get_description())) << "\n";
  }
  out << "      )\n"
      << "      _describe -t commands 'tlsrpt-collector command' commands && ret=0 ;;\n"
      << "    argument)\n"
      << "      case $line[1] in\n";
  for (const auto* c : commands(app)) {
    out << "        " << c->get_name() << ")\n"
        << "          _arguments \\\n";
    zsh_specs(*c, out);
    out << "            && ret=0 ;;\n";
  }
  out << "      esac ;;\n"
      << "  esac\n"
      << "  return ret\n"
      << "}\n"
      << "_tlsrpt_collector \"$@\"\n";
}

}  // namespace

void write_completion(const CLI::App& app, std::string_view shell, std::ostream& out) {
  if (shell == "bash") {
    write_bash(app, out);
  } else if (shell == "zsh") {
    write_zsh(app, out);
  } else {
    throw std::invalid_argument("completion: cannot write a completion for shell '" +
                                std::string(shell) + "': expected bash or zsh");
  }
}

}  // namespace tlsrpt::app
