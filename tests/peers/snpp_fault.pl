#!/usr/bin/perl
# snpp_fault.pl PORT MODEFILE PAGELOG - an RFC 1861 SNPP server on
# 127.0.0.1:PORT built on Debian's Net::SNPP::Server (libnet-snpp-perl),
# for the pager fault tests.  Each connection reads MODEFILE once (the test
# changes it between attempts) and behaves accordingly:
#
#   ok    the library's own dialogue; every page sent is appended to
#         PAGELOG as "PIN<TAB>TEXT" (newlines in the text as "\n")
#   temp  SEND answers "451 Temporary failure, try again later"
#   perm  SEND answers "554 Error, message refused"
#   nak   SEND answers what hfaxd answers when its scheduler refuses the
#         job under load: "554 Failed to submit message 1199: Unspecified
#         reason (scheduler NAK'd request)."
#   drop  MESS and DATA close the connection without answering
#
# LOGI is accepted (the library leaves it unimplemented); pager ids are
# 1 to 16 digits, except 5550000 which is an invalid pager id (550).
# Connections are served by forked children; SIGTERM stops them all, reaps
# them and exits.
use strict;
use warnings;
use Fcntl qw(:flock);
use POSIX qw(:sys_wait_h);
use Net::SNPP::Server;

my ($port, $modefile, $pagelog) = @ARGV;
die "usage: $0 PORT MODEFILE PAGELOG\n" unless defined $pagelog;

my $srv = Net::SNPP::Server->new(Port => $port, BindTo => '127.0.0.1',
                                 MaxErrors => 10, Timeout => 60);
my %kids;

$SIG{TERM} = sub {
    kill 'TERM', keys %kids;
    waitpid($_, 0) for keys %kids;
    exit 0;
};

sub mode {
    open(my $f, '<', $modefile) or return 'ok';
    my $m = <$f> // 'ok';
    close $f;
    $m =~ s/\s+//g;
    return $m;
}

sub serve {
    my ($client) = @_;
    my $mode = mode();
    $SIG{TERM} = 'DEFAULT';
    $srv->callback('validate_pager_id', sub {
        my ($id) = @_;
        return undef if !defined $id || $id !~ /^\d{1,16}$/ || $id eq '5550000';
        return $id;
    });
    $srv->callback('write_log', sub { });
    $srv->callback('process_page', sub {
        my ($pgr, $page, $results) = @_;
        my $text = $page->{mess} // '';
        $text =~ s/\n/\\n/g;
        open(my $l, '>>', $pagelog) or return 0;
        flock($l, LOCK_EX);
        print $l "$pgr->[0]\t$text\n";
        close $l;
        return 1;
    });
    $srv->custom_command('LOGI', sub { return ('250 Login accepted', 1) });
    if ($mode eq 'temp') {
        $srv->disable_command('SEND', '451 Temporary failure, try again later');
    } elsif ($mode eq 'perm') {
        $srv->disable_command('SEND', '554 Error, message refused');
    } elsif ($mode eq 'nak') {
        $srv->disable_command('SEND', "554 Failed to submit message 1199: "
                              . "Unspecified reason (scheduler NAK'd request).");
    } elsif ($mode eq 'drop') {
        my $drop = sub { $client->shutdown(2); exit 0 };
        $srv->custom_command('MESS', $drop);
        $srv->custom_command('DATA', $drop);
    }
    $srv->handle_client($client);
}

while (1) {
    my $client = $srv->client();
    if (defined $client && defined fileno($client)) {
        my $pid = fork();
        if (defined $pid && $pid == 0) {
            serve($client);
            exit 0;
        }
        $kids{$pid} = 1 if $pid;
        close $client;
    }
    while ((my $k = waitpid(-1, WNOHANG)) > 0) {
        delete $kids{$k};
    }
}
