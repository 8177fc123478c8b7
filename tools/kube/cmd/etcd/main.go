// Command etcd is the etcd server that k8s.io/kubernetes requires (Debian's etcd-server is too old for it).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
