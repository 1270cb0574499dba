package imports

import (
	"det/host" // want `importing "det/host" brings in a package outside the determinism contract; a deterministic package may import only deterministic packages of det`
	"det/pure"
	"det/tools" // want `importing "det/tools" brings in a package outside the determinism contract`
	"free/util"
)

var (
	_ = host.Now
	_ = pure.Double
	_ = tools.Quadruple
	_ = util.Triple
)
