/** A union budget's movements on one Asia/Shanghai day (fen): in by top-up, out by grant, back by refund or cancellation. */
export interface BudgetDay {
  date: string;
  topped_up_minor: number;
  granted_minor: number;
  returned_minor: number;
}
