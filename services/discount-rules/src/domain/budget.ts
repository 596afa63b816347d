/** A budget: a union's pot that funds the union part of its rules' discounts (DESIGN §4). */
export interface Budget {
  budget_id: string;
  name: string;
  union_id: string;
  currency: 'CNY';
  created_by: string;
  created_at: string;
}
