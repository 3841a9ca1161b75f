/* UDP to 127.0.0.1:PORT as fast as one process can send, for SECS seconds;
 * prints how many datagrams were sent (each is one egress and one ingress
 * packet on lo). With "dns", every datagram is the same DNS query (A
 * q.example.test), so that trace_dns parses each one. A socket bound to the
 * port takes them, so that they are delivered, not refused by ICMP.
 *
 * usage: udp_flood PORT SECS [LEN | dns] */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const unsigned char dns_query[] = {
    0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,   0,   0, 0,   /* id, RD, 1 question */
    1,    'q',  7,    'e',  'x', 'a', 'm', 'p', 'l', 'e', 4, 't', /* q.example.test. */
    'e',  's',  't',  0,    0,   1,   0,   1};                    /* A, IN */

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	static char buf[65536];
	size_t len = 64;
	long sent = 0;
	time_t end;
	int s, r;

	if (argc < 3) {
		fprintf(stderr, "usage: %s PORT SECS [LEN | dns]\n", argv[0]);
		return 2;
	}
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (argc > 3 && !strcmp(argv[3], "dns")) {
		memcpy(buf, dns_query, sizeof(dns_query));
		len = sizeof(dns_query);
	} else if (argc > 3) {
		len = strtoul(argv[3], NULL, 10);
		if (len > sizeof(buf))
			len = sizeof(buf);
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	r = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || r < 0) {
		perror("socket");
		return 1;
	}
	/* another flooder may own the port already: it then takes ours too */
	(void)bind(r, (struct sockaddr *)&a, sizeof(a));
	end = time(NULL) + atoi(argv[2]);
	while (time(NULL) < end) {
		for (int i = 0; i < 1000; i++) {
			char sink[2048];

			if (sendto(s, buf, len, 0, (struct sockaddr *)&a, sizeof(a)) == (ssize_t)len)
				sent++;
			while (recv(r, sink, sizeof(sink), MSG_DONTWAIT) > 0)
				;
		}
	}
	printf("%ld\n", sent);
	return 0;
}
