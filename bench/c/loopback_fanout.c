/* The floor under the watch fan-out figure: how long this machine's kernel takes to
 * deliver one small write to each of 1,000 loopback TCP connections, with a reader
 * thread (epoll, as a client would) on another CPU. No ZooKeeper involved.
 *
 *   gcc -O2 -o /tmp/loopback_fanout bench/c/loopback_fanout.c -lpthread && /tmp/loopback_fanout
 *
 * Prints, for 5 rounds, the time the writer spent in its 1,000 write(2) calls, the time
 * until the reader had read the last byte, and the CPU time each side used (getrusage,
 * per thread): the reader's share is what a client needs just to take 1,000
 * notifications off its sockets. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <time.h>
#include <fcntl.h>
#include <sys/resource.h>
#define N 1000
int srv[N], cli[N]; int ep; volatile int got=0; struct timespec tlast; double reader_cpu;
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e6+t.tv_nsec/1e3;}
static double thread_cpu(){struct rusage r;getrusage(RUSAGE_THREAD,&r);return r.ru_utime.tv_sec*1e6+r.ru_utime.tv_usec+r.ru_stime.tv_sec*1e6+r.ru_stime.tv_usec;}
void* reader(void*a){ struct epoll_event ev[1024]; char buf[256]; double c0=thread_cpu();
  while(got<N){ int n=epoll_wait(ep,ev,1024,-1); for(int i=0;i<n;i++){ int r=read(ev[i].data.fd,buf,sizeof buf); if(r>0) got++; } }
  clock_gettime(CLOCK_MONOTONIC,&tlast); reader_cpu=thread_cpu()-c0; return 0;}
int main(void){
  int l=socket(AF_INET,SOCK_STREAM,0); struct sockaddr_in a={0}; a.sin_family=AF_INET; a.sin_addr.s_addr=htonl(0x7f000001); int one=1; setsockopt(l,SOL_SOCKET,SO_REUSEADDR,&one,4);
  bind(l,(void*)&a,sizeof a); socklen_t al=sizeof a; getsockname(l,(void*)&a,&al); listen(l,2048);
  ep=epoll_create1(0);
  for(int i=0;i<N;i++){ cli[i]=socket(AF_INET,SOCK_STREAM,0); connect(cli[i],(void*)&a,sizeof a); srv[i]=accept(l,0,0); setsockopt(srv[i],IPPROTO_TCP,TCP_NODELAY,&one,4); fcntl(cli[i],F_SETFL,O_NONBLOCK);
    struct epoll_event e={.events=EPOLLIN|EPOLLET,.data.fd=cli[i]}; epoll_ctl(ep,EPOLL_CTL_ADD,cli[i],&e);}
  for(int round=0;round<5;round++){ got=0; pthread_t t; pthread_create(&t,0,reader,0); usleep(100000);
    char msg[40]; memset(msg,'x',40); double c0=thread_cpu(); double t0=now();
    for(int i=0;i<N;i++) write(srv[i],msg,40);
    double tw=now(); double wc=thread_cpu()-c0; pthread_join(t,0); double tl=tlast.tv_sec*1e6+tlast.tv_nsec/1e3;
    printf("writes %.0f us, last read %.0f us; CPU: writer %.0f us, reader %.0f us\n", tw-t0, tl-t0, wc, reader_cpu); }
}
